"""What every view shares: its tables, its event handlers, one transaction per batch."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Never, TypeAlias, TypeVar, cast

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from application.setup_lock import setup_lock
from projections.sealing import SEALED, KeyMismatch
from projections.store import Tx, ViewDatabase, ViewStore

E = TypeVar("E", bound=DomainEvent)
#: What a view does with one event of a class, inside the batch's transaction.
Handler: TypeAlias = Callable[[Tx, E], None]

#: The tables of a generation being rebuilt carry this suffix until they replace the live ones.
REBUILD_SUFFIX = "__rebuild"
#: Each view's table layout, so tables of another layout are rebuilt rather than misread.
LAYOUTS = "view_layouts"
log = logging.getLogger("zhanyou.projections")


def utc_text(instant: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds: sorts as text on both backends."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


class EventText:
    """An event's id and instant as the views write them, worked out once per event for every view
    taking it: text per view per event was much of what catch-up spent outside decoding."""

    __slots__ = ("at", "id")

    def __init__(self, domain_event: DomainEvent) -> None:
        self.id = str(domain_event.originator_id)
        self.at = utc_text(domain_event.timestamp)


class ViewBuilding(Exception):
    """The view's tables of this release's layout are still being built; reads wait for the switch."""

    def __init__(self, view: str, position: int) -> None:
        self.view = view
        self.position = position
        super().__init__(
            f"view {view} is being built in this release's table layout (at notification {position}); "
            "it answers once it has caught up and is switched in"
        )


def exists(tx: Tx, table: str) -> bool:
    """Whether ``table`` (as SQL writes it) exists."""
    if tx.postgres:
        row = tx.fetchone("SELECT to_regclass(?) IS NOT NULL AS found", (table,))
        return bool(row and row["found"])
    return (
        tx.fetchone("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        is not None
    )


class Handlers:
    """A view's handler of each event class it reads.

    ``on`` pairs a class with a handler of that class (or of a base of it), so mypy checks
    every pairing; events are dispatched by their exact class, as the log's topics name them.
    """

    def __init__(self) -> None:
        self._of: dict[type[DomainEvent], Handler[Never]] = {}

    def on(self, kind: type[E], handler: Handler[E]) -> Handlers:
        if kind in self._of:
            raise ValueError(f"{kind.__qualname__} has a handler already")
        self._of[kind] = handler
        return self

    def __iter__(self) -> Iterator[type[DomainEvent]]:
        return iter(self._of)

    def dispatch(self, tx: Tx, domain_event: DomainEvent) -> None:
        # The table is keyed by exact class and ``on`` checked each pairing: the handler takes it.
        handler = cast("Handler[DomainEvent]", self._of[type(domain_event)])
        handler(tx, domain_event)


class ViewProjection(Projection[ViewStore]):
    """A view of the notification log, written with its tracking position in one transaction.

    Subclasses declare ``tables`` (logical name -> column definitions), ``indexes`` and
    ``handlers()`` (event class -> handler). Table ``x`` is stored as ``view_x`` (plus the
    rebuild suffix while a rebuild runs); SQL is written with ``{x}`` placeholders.
    """

    tables: ClassVar[dict[str, str]] = {}
    generation: int
    indexes: ClassVar[dict[str, tuple[str, str]]] = {}  # index name -> (table, columns)
    #: Raise when the handlers change what they write: the view is then built again.
    version: ClassVar[int] = 1
    #: Whether some columns hold personal text, sealed when a cipher key is set.
    seals: ClassVar[bool] = False
    #: The text of the event being applied, for its handler (``apply`` sets it).
    text: EventText

    def __init__(self, db: ViewDatabase, *, suffix: str = "") -> None:
        self.db = db
        self.suffix = suffix
        self.sealer = db.sealer
        #: Whether the live tables have another layout: this generation is built beside them.
        self.building = False
        #: Whether the tables have their indexes (``create_indexes``).
        self.indexed = True
        # A generation being rebuilt gets its indexes with the switch-over; tables in this
        # process's memory are seen by no other process and have no layout to keep.
        if suffix or db.settings is None:
            super().__init__(db.recorder(tracking_table=self.tracking_physical(), ddl=self._table_ddl()))
        else:
            with setup_lock(db.settings):  # other processes open the views too
                layout = self._recorded_layout()
                if layout == "another":
                    self.building = True
                    self.suffix = self.generation_suffix()
                    recorder = db.recorder(tracking_table=self.tracking_physical(), ddl=self._table_ddl())
                else:
                    # New tables get their indexes once they have caught up with the log: kept
                    # up row by row from the first event, they made a catch-up from empty views
                    # about a tenth slower. Tables opened again get any index they lack now.
                    self.indexed = layout == "this"
                    ddl = self._table_ddl() + (self.index_ddl() if self.indexed else [])
                    recorder = db.recorder(tracking_table=self.tracking_physical(), ddl=ddl)
                    self._record_layout()
            super().__init__(recorder)
        self._handlers = self.handlers()
        self.topics = tuple(sorted(get_topic(cls) for cls in self._handlers))
        self.topic_set = frozenset(self.topics)
        self.current_id = 0

    # --- naming --------------------------------------------------------------

    @property
    def suffix(self) -> str:
        return self._suffix

    @suffix.setter
    def suffix(self, suffix: str) -> None:
        """Names this generation's tables (and forgets statements naming another's)."""
        self._suffix = suffix
        #: Counts the tables this view has read: an answer read from one set is not another's.
        self.generation = getattr(self, "generation", 0) + 1
        self.t = {logical: self.db.table(self.physical(logical)) for logical in self.tables}
        self._sql: dict[str, str] = {}

    def generation_suffix(self) -> str:
        """The suffix of this layout's tables while they are built beside another layout's."""
        return f"__{self.layout()}"

    def _table_ddl(self) -> list[str]:
        return [f"CREATE TABLE IF NOT EXISTS {self.t[name]} ({body})" for name, body in self.tables.items()]

    def physical(self, logical: str) -> str:
        return f"view_{logical}{self.suffix}"

    def tracking_physical(self) -> str:
        return f"view_{self.name}_tracking{self.suffix}"

    def index_ddl(self, tables: dict[str, str] | None = None) -> list[str]:
        """The indexes, on this generation's tables or on ``tables`` (logical -> as SQL names it)."""
        on = self.t if tables is None else tables
        return [
            f"CREATE INDEX IF NOT EXISTS {index} ON {on[table]} ({columns})"
            for index, (table, columns) in self.indexes.items()
        ]

    def sql(self, template: str) -> str:
        """A statement with ``{table}`` placeholders resolved to this generation's tables."""
        statement = self._sql.get(template)
        if statement is None:
            statement = self._sql[template] = template.format_map(self.t)
        return statement

    # --- processing ----------------------------------------------------------

    def handlers(self) -> Handlers:
        raise NotImplementedError

    def apply(
        self, tx: Tx, notification_id: int, domain_event: DomainEvent, text: EventText | None = None
    ) -> None:
        """``text``: the event's ``EventText``, when the caller shares one between views."""
        self.current_id = notification_id  # for views keyed by position (audit, phase log)
        self.text = EventText(domain_event) if text is None else text
        self._handlers.dispatch(tx, domain_event)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's entry point: one event, its rows and its tracking in one transaction."""
        with self.view.transaction() as tx:
            self.apply(tx, tracking.notification_id, domain_event)
            self.view._insert_tracking(tx.cursor, tracking)

    def position_in(self, tx: Tx, application_name: str) -> int:
        """The tracked position read inside a write transaction (PostgreSQL: row locked)."""
        lock = " FOR UPDATE" if tx.postgres else ""
        row = tx.fetchone(
            f"SELECT notification_id FROM {self.view.tracking_table} WHERE application_name=?{lock}",
            (application_name,),
        )
        return int(row["notification_id"]) if row and row["notification_id"] is not None else 0

    def position(self, application_name: str) -> int:
        if self.building:
            self.ready()  # switched in by another process: the live tracking is this layout's
        return self.view.max_tracking_id(application_name) or 0

    def layout(self) -> str:
        """A fingerprint of the tables, their indexes, the handlers' version and sealing."""
        sealed = self.sealer.enabled and self.seals
        text = repr((sorted(self.tables.items()), sorted(self.indexes.items()), self.version, sealed))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def create_indexes(self) -> None:
        """The indexes of tables made without them (new tables, once caught up with the log)."""
        assert self.db.settings is not None  # noqa: S101 - new tables are made only in a store
        with setup_lock(self.db.settings), self.view.transaction() as tx:
            for statement in self.index_ddl():
                tx.execute(statement)
        self.indexed = True

    def _recorded_layout(self) -> Literal["this", "another", "none"]:
        """Whether the live tables were made for this layout, for another (an older release,
        say), or not made yet (a new store).

        For another layout, this process builds its own layout's generation beside them and leaves them as
        they are: a process of the older release keeps serving and updating them until the
        new generation has caught up and is switched in (``projections.generations``).
        """
        layouts = self.db.table(LAYOUTS)
        with self.db.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {layouts} "
                "(view TEXT PRIMARY KEY, layout TEXT NOT NULL, sealed INTEGER NOT NULL)"
            )
            row = tx.fetchone(f"SELECT layout, sealed FROM {layouts} WHERE view = ?", (self.name,))
            recorded = row["layout"] if row else None
            if recorded == self.layout():
                return "this"
            if row and self.seals and bool(row["sealed"]) != self.sealer.enabled:
                # The store's events were written with the key or without it, never both: a
                # difference is a process started with the wrong setting, not a new layout.
                raise KeyMismatch(
                    f"view {self.name} was built {'with' if row['sealed'] else 'without'} a cipher key "
                    f"and this process has {'one' if self.sealer.enabled else 'none'}: set "
                    "ZHANYOU_CIPHER_KEY as when the events were written"
                )
            if recorded is None and not exists(tx, self.db.table(self.tracking_physical())):
                return "none"  # a new store: the live tables are made now, in this layout
        change = (
            "its tables changed layout" if recorded is not None else "no layout is recorded for its tables"
        )
        log.warning(
            "view %s: %s; this layout's tables are built from the log beside them and switched in once "
            "caught up",
            self.name,
            change,
        )
        return "another"

    def ready(self) -> bool:
        """Whether this view's reads may be answered: not while its generation is being built.

        Another process may have switched the generation in: then the live tables are this
        layout's, and this view reads and writes them from now on.
        """
        if not self.building:
            return True
        with self.view.read() as tx:
            row = tx.fetchone(f"SELECT layout FROM {self.db.table(LAYOUTS)} WHERE view = ?", (self.name,))
        if row is not None and row["layout"] == self.layout():
            self.adopt_live()
        return not self.building

    def adopt_live(self) -> None:
        """The live tables are this layout's now (the generation was switched in)."""
        self.suffix = ""
        self.indexed = True
        self._view = self.db.recorder(tracking_table=self.tracking_physical(), ddl=self._table_ddl())
        self.building = False

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """A read of the view's tables; ``ViewBuilding`` while they are not this layout's yet."""
        if not self.ready():
            raise ViewBuilding(self.name, self.generation_position())
        with self.view.read() as tx:
            yield tx

    def generation_position(self) -> int:
        """How far this view's tables have read the log (the furthest of its upstreams)."""
        with self.view.read() as tx:
            row = tx.fetchone(f"SELECT MAX(notification_id) AS n FROM {self.view.tracking_table}")
        return int(row["n"]) if row and row["n"] is not None else 0

    def _record_layout(self) -> None:
        with self.db.transaction() as tx:
            self.record_layout(tx)

    def record_layout(self, tx: Tx) -> None:
        """The live tables are of this view's layout (in the caller's transaction)."""
        layouts = self.db.table(LAYOUTS)
        tx.execute(f"DELETE FROM {layouts} WHERE view = ?", (self.name,))
        tx.execute(
            f"INSERT INTO {layouts} (view, layout, sealed) VALUES (?, ?, ?)",
            (self.name, self.layout(), int(self.sealer.enabled and self.seals)),
        )

    def drop_tables(self) -> None:
        with self.view.transaction() as tx:
            for name in [*self.t.values(), self.view.tracking_table]:
                tx.execute(f"DROP TABLE IF EXISTS {name}")

    def _unsealed(self, value: Any) -> Any:
        """Sealed text as it reads: sealing the same text twice never gives the same bytes."""
        if isinstance(value, str) and value.startswith(SEALED):
            return self.sealer.open(value)
        return value

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: for comparing two generations of a view."""
        found: dict[str, list[tuple[Any, ...]]] = {}
        with self.view.read() as tx:
            for logical, table in self.t.items():
                rows = tx.fetchall(f"SELECT * FROM {table}")
                opened = ({k: self._unsealed(v) for k, v in r.items()} for r in rows)
                found[logical] = sorted((tuple(sorted(r.items())) for r in opened), key=repr)
        return found
