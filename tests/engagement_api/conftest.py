from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from storage.models import Consultation, ConsultationGroup, Question, StakeholderGroup, utcnow


async def seed_consultation(db, slug="bws", opens=None, closes=None):
    now = utcnow()
    async with db.session() as s:
        c = Consultation(slug=slug, title_en="Local buses", title_cy="Bysiau lleol", summary_en="About buses",
                         summary_cy="Am fysiau", opens_at=opens or now - timedelta(days=1),
                         closes_at=closes or now + timedelta(weeks=12))
        g = StakeholderGroup(slug=f"{slug}-young", name_en="Young people", name_cy="Pobl ifanc")
        s.add_all([c, g])
        await s.flush()
        s.add(ConsultationGroup(consultation_id=c.id, group_id=g.id))
        s.add(Question(consultation_id=c.id, key="q1", position=0, text_en="What do you think?",
                       text_cy="Beth yw eich barn?"))
        s.add(Question(consultation_id=c.id, key="welsh-language", position=9, kind="welsh_language",
                       text_en="Effects on Welsh?", text_cy="Effaith ar y Gymraeg?"))
        await s.commit()
    return slug


class Api:
    def __init__(self, base: str, app) -> None:
        self.base, self.app = base, app

    async def call(self, method: str, path: str, *, json=None, data=None, headers=None):
        async with aiohttp.ClientSession() as http:
            async with http.request(method, self.base + path, json=json, data=data, headers=headers) as r:
                body = await r.read()
                try:
                    import json as j

                    parsed = j.loads(body) if body else None
                except ValueError:
                    parsed = body.decode("utf-8", "replace")
                return r.status, parsed


@pytest.fixture
async def api(db, database_url):
    settings = Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                        analysis_enabled=False, admin_token="tok", CYSWLLT_RATE_LIMIT="1000/minute")
    app = create_app(settings, db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Api(str(server.make_url("")).rstrip("/"), app)
    finally:
        await server.close()
