from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lifecycle.selectors import board_columns


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "lifecycle/board.html", {"columns": board_columns()})
