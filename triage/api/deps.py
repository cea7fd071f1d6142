"""What routes receive through ``Annotated[..., Depends(...)]``: settings, a database session, the caller
(from the bearer key) and the serving suggester. Tests build their own app with ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from triage.api.limits import request_caller
from triage.apikeys import Caller, authenticate
from triage.serving import ModelHolder
from triage.settings import Settings
from triage.suggest import Suggester

_bearer = HTTPBearer(auto_error=False, description="An API key made by `triage apikey create`.")


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the threadpool,
# and each such hop cost more than the dependency (about a tenth of a complaint's server time in all).

async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the route (made here: no connection until used; closed in the threadpool: closing
    returns its connection to the pool, a round trip to the database)."""
    sessions: sessionmaker = request.app.state.sessions
    session = sessions()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


async def get_caller(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The caller holding the request's bearer key; 401 if it is missing, unknown or revoked.

    On ``/v1`` the request limits (:mod:`triage.api.limits`) checked the key already, before the body was
    read: that caller is used. Otherwise the key is looked up in a session of its own, closed at once: the
    route's transaction does not start (and on SQLite take the write lock) before the route needs it.
    """
    checked = request_caller(request.state)
    if checked is not None:
        request.state.key_name = checked.name  # for the access log
        return checked
    def lookup() -> Caller:
        with request.app.state.sessions() as session:
            session.connection(execution_options={"read_only": True})  # no write lock for a look-up
            return authenticate(session, credentials.credentials if credentials else None)

    caller = await run_in_threadpool(lookup)
    request.state.key_name = caller.name  # for the access log
    return caller


async def get_admin(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    caller.require("admin")
    return caller


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.models


def get_suggester(request: Request, holder: Annotated[ModelHolder, Depends(get_holder)]) -> Suggester:
    suggester = holder.get()
    request.state.model_version = suggester.version  # for the access log
    return suggester


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
AdminDep = Annotated[Caller, Depends(get_admin)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
SuggesterDep = Annotated[Suggester, Depends(get_suggester)]
