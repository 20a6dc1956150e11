import orchestrator.stored_json
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orchestrator', '0004_stored_by_key'),
    ]

    operations = [
        migrations.CreateModel(
            name='CreatedEventConflict',
            fields=[
                ('id', models.UUIDField(primary_key=True, serialize=False)),
                ('run_type', models.CharField(max_length=16)),
                ('run_id', models.UUIDField(db_index=True)),
                ('occurred', models.DateTimeField()),
                ('fields', orchestrator.stored_json.StoredJSONField(help_text='what the event said about the run')),
                ('stored_by', models.CharField(blank=True, default='', max_length=150)),
                ('received', models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
