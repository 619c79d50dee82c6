"""Indexes for the list filtered by status or by marking, newest first.

(marking, status) served the door when it was an OR of three rules; the door is now one
CASE that no index serves, and (marking, date) answers "marking = X, newest first".
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_search_indexes")]

    operations = [
        migrations.RemoveIndex(model_name="incident", name="incidents_i_marking_265603_idx"),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["status", "date"], name="incidents_i_status_1a62f8_idx"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["marking", "date"], name="incidents_i_marking_3ecf1f_idx"),
        ),
    ]
