import pytest


@pytest.fixture(autouse=True)
def analytics_dir(settings, tmp_path):
    """Each test its own snapshot folder: nothing leaks between tests or into var/."""
    settings.DATA_DIR = tmp_path
    return tmp_path / "analytics"
