"""Queries the engine needs, in one place: the engine speaks in rows, never in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import UserRef
from bot.store.models import (
    AnswerRecord,
    Consultation,
    PlanItem,
    PlaybookVersion,
    RecommendationSnapshot,
    TenantSettings,
    User,
)

OPEN_STATES = ("active", "completed")


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def find_user(session: AsyncSession, ref: UserRef) -> User | None:
    return await session.scalar(
        select(User).where(
            User.platform == ref.platform,
            User.tenant == ref.tenant,
            User.platform_user_id == ref.user_id,
        )
    )


async def get_or_create_user(session: AsyncSession, ref: UserRef) -> User:
    """Safe against two first messages of the same person arriving at once."""
    user = await find_user(session, ref)
    if user is not None:
        return user
    stmt = (
        _insert(session)(User)
        .values(platform=ref.platform, tenant=ref.tenant, platform_user_id=ref.user_id)
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)
    user = await find_user(session, ref)
    assert user is not None
    return user


async def current_consultation(
    session: AsyncSession, user_id: int, consultation_id: int | None = None
) -> Consultation | None:
    """The consultation a command without an explicit id is about: the latest open one."""
    stmt = select(Consultation).where(
        Consultation.user_id == user_id, Consultation.status.in_(OPEN_STATES)
    )
    if consultation_id is not None:
        stmt = stmt.where(Consultation.id == consultation_id)
    stmt = stmt.order_by(Consultation.updated_at.desc(), Consultation.id.desc()).limit(1)
    return await session.scalar(stmt)


async def active_consultation(
    session: AsyncSession, user_id: int, playbook_id: str
) -> Consultation | None:
    return await session.scalar(
        select(Consultation).where(
            Consultation.user_id == user_id,
            Consultation.playbook_id == playbook_id,
            Consultation.status == "active",
        )
    )


async def current_answers(session: AsyncSession, consultation_id: int) -> dict[str, Any]:
    rows = await session.execute(
        select(AnswerRecord.question_id, AnswerRecord.value).where(
            AnswerRecord.consultation_id == consultation_id,
            AnswerRecord.superseded_at.is_(None),
        )
    )
    return {qid: value for qid, value in rows}


async def record_answer(
    session: AsyncSession, consultation_id: int, question_id: str, value: Any, now: datetime
) -> None:
    await session.execute(
        update(AnswerRecord)
        .where(
            AnswerRecord.consultation_id == consultation_id,
            AnswerRecord.question_id == question_id,
            AnswerRecord.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    session.add(
        AnswerRecord(
            consultation_id=consultation_id, question_id=question_id, value=value, answered_at=now
        )
    )


async def answer_history(session: AsyncSession, consultation_id: int) -> list[AnswerRecord]:
    return list(
        await session.scalars(
            select(AnswerRecord)
            .where(AnswerRecord.consultation_id == consultation_id)
            .order_by(AnswerRecord.id)
        )
    )


async def latest_snapshot(
    session: AsyncSession, consultation_id: int
) -> RecommendationSnapshot | None:
    return await session.scalar(
        select(RecommendationSnapshot)
        .where(RecommendationSnapshot.consultation_id == consultation_id)
        .order_by(RecommendationSnapshot.id.desc())
        .limit(1)
    )


async def replace_open_plan(
    session: AsyncSession, consultation_id: int, steps: list[tuple[str, Any]], now: datetime
) -> list[PlanItem]:
    """New advice replaces plan items the person has not touched; touched ones stay."""
    await session.execute(
        delete(PlanItem).where(
            PlanItem.consultation_id == consultation_id, PlanItem.status == "open"
        )
    )
    kept = set(
        await session.scalars(
            select(PlanItem.action).where(PlanItem.consultation_id == consultation_id)
        )
    )
    items = [
        PlanItem(
            consultation_id=consultation_id,
            action=action,
            due_date=due,
            created_at=now,
            updated_at=now,
        )
        for action, due in steps
        if action not in kept
    ]
    session.add_all(items)
    await session.flush()
    return await plan_items(session, consultation_id)


async def plan_items(session: AsyncSession, consultation_id: int) -> list[PlanItem]:
    return list(
        await session.scalars(
            select(PlanItem)
            .where(PlanItem.consultation_id == consultation_id)
            .order_by(PlanItem.id)
        )
    )


async def user_consultations(session: AsyncSession, user_id: int) -> list[Consultation]:
    return list(
        await session.scalars(
            select(Consultation).where(Consultation.user_id == user_id).order_by(Consultation.id)
        )
    )


async def delete_user(session: AsyncSession, user_id: int) -> None:
    """Every row that belongs to a person goes with them (FKs cascade on both databases)."""
    await session.execute(delete(User).where(User.id == user_id))


async def playbook_version(
    session: AsyncSession, playbook_id: str, version: int
) -> PlaybookVersion | None:
    return await session.get(PlaybookVersion, (playbook_id, version))


async def save_playbook_version(
    session: AsyncSession, playbook_id: str, version: int, digest: str, document: dict[str, Any]
) -> None:
    await session.execute(
        _insert(session)(PlaybookVersion)
        .values(playbook_id=playbook_id, version=version, digest=digest, document=document)
        .on_conflict_do_nothing()
    )


async def tenant_settings(
    session: AsyncSession, platform: str, tenant: str
) -> TenantSettings | None:
    return await session.get(TenantSettings, (platform, tenant))


async def set_tenant_settings(
    session: AsyncSession, platform: str, tenant: str, now: datetime, **values: Any
) -> None:
    row = await tenant_settings(session, platform, tenant)
    if row is None:
        row = TenantSettings(platform=platform, tenant=tenant)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
