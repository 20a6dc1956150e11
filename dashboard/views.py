from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from orchestrator.models import FlowRun


@login_required
def runs_list(request):
    runs = FlowRun.objects.select_related("flow").order_by("-created")[:50]
    return render(request, "dashboard/runs.html", {"runs": runs})
