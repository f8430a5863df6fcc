"""An example CRM that asks Guardian before showing any customer's data.

Seven lines here are Guardian's: two imports, the client, ``install``, closing the client in
the lifespan and one ``@requires`` per endpoint; the rest is an ordinary FastAPI app with a few
customers in memory. A customer-care agent may read contact details; billing may
read billing details, where Guardian's ``mask`` obligation hides the IBAN. Run Guardian
(``make run``), then ``.venv/bin/uvicorn main:app --app-dir examples/crm --port 8001``, and
call it as an employee signed in to Guardian (headers ``X-Guardian-User`` and
``X-Guardian-Session``; the README shows how to get a token).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from guardian_client import AsyncGuardianClient
from guardian_client.fastapi import install, requires
from pydantic import BaseModel


class Contact(BaseModel):
    customer_id: str
    name: str
    email: str
    phone: str


class Billing(BaseModel):
    customer_id: str
    name: str
    plan: str
    iban: str


CUSTOMERS: dict[str, tuple[Contact, Billing]] = {
    cid: (Contact(customer_id=cid, name=name, email=email, phone=phone),
          Billing(customer_id=cid, name=name, plan=plan, iban=iban))
    for cid, name, email, phone, plan, iban in [
        ("C-1001", "Ada Byron", "ada@example.org", "+44 20 7946 0001", "fibre-500",
         "GB33BUKB20201555555555"),
        ("C-1002", "Blaise Pascal", "blaise@example.org", "+33 1 44 55 66 77", "mobile-s",
         "FR1420041010050500013M02606"),
        ("C-1003", "Grace Hopper", "grace@example.org", "+1 202 555 0143", "fibre-1000",
         "DE89370400440532013000"),
    ]
}


def _customer(customer_id: str) -> tuple[Contact, Billing]:
    if customer_id not in CUSTOMERS:
        raise HTTPException(status_code=404, detail="no such customer")
    return CUSTOMERS[customer_id]


def create_app(guardian: AsyncGuardianClient) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with guardian:
            yield

    app = FastAPI(title="Example CRM", lifespan=lifespan)
    install(app, guardian)

    @app.get("/customers/{customer_id}/contact")
    @requires(database="crm", category="contact", action="read", purpose="customer-care")
    async def contact(customer_id: str) -> Contact:
        return _customer(customer_id)[0]

    @app.get("/customers/{customer_id}/billing")
    @requires(database="crm", category="economic-financial", action="read", purpose="billing")
    async def billing(customer_id: str) -> Billing:
        return _customer(customer_id)[1]

    return app


app = create_app(AsyncGuardianClient(
    os.environ.get("GUARDIAN_URL", "http://127.0.0.1:8000"),
    api_key=os.environ.get("GUARDIAN_API_KEY", "demo-app-key"), application="crm-web"))
