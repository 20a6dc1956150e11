from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orchestrator', '0003_unreadable_json_reads'),
    ]

    operations = [
        migrations.AddField(
            model_name='flowrun',
            name='stored_by',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='flowrunstate',
            name='stored_by',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='log',
            name='stored_by',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='taskrun',
            name='stored_by',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='taskrunstate',
            name='stored_by',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='worker',
            name='stored_by',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
    ]
