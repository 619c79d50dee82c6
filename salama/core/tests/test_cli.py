import subprocess
import sys


def _salama(*args):
    return subprocess.run(
        [sys.executable, "-m", "salama", *args], capture_output=True, text=True, timeout=120
    )


def test_the_salama_command_lists_management_commands():
    result = _salama("help")
    assert result.returncode == 0
    assert "audit" in result.stdout and "migrate" in result.stdout


def test_serve_is_runserver():
    result = _salama("serve", "--help")
    assert result.returncode == 0 and "runserver" in result.stdout
