import orchestrator.stored_json
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('orchestrator', '0002_drop_redundant_link_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='flowrun',
            name='parameters',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name='flowrun',
            name='tags',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='flowrunstate',
            name='error',
            field=orchestrator.stored_json.StoredJSONField(blank=True, help_text='{"type", "message", "traceback"} of a failure', null=True),
        ),
        migrations.AlterField(
            model_name='flowrunstate',
            name='result',
            field=orchestrator.stored_json.StoredJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='taskrun',
            name='parameters',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name='taskrun',
            name='tags',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='taskrun',
            name='upstream_task_run_ids',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='taskrunstate',
            name='error',
            field=orchestrator.stored_json.StoredJSONField(blank=True, help_text='{"type", "message", "traceback"} of a failure', null=True),
        ),
        migrations.AlterField(
            model_name='taskrunstate',
            name='result',
            field=orchestrator.stored_json.StoredJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='worker',
            name='flow_names',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='worker',
            name='task_keys',
            field=orchestrator.stored_json.StoredJSONField(blank=True, default=list),
        ),
    ]
