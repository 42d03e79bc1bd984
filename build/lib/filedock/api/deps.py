"""Route dependencies: services come from the app's lifespan, never from globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from filedock.wiring import Services


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
