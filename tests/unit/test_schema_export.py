"""`tradewright schema`: one JSON schema per event, command and market-data type, usable by other tools."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec

from tradewright.cli.main import main
from tradewright.cli.schema_cmd import all_schemas
from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.model import COMMAND_TYPES, DATA_TYPES, EVENT_TYPES, OrderSide, OrderType, SubmitOrder
from tradewright.testkit import btc_perp


def test_every_event_command_and_data_type_has_a_schema() -> None:
    schemas = all_schemas()
    expected = {t.__name__ for t in (*EVENT_TYPES, *COMMAND_TYPES, *DATA_TYPES)}
    assert set(schemas) == expected
    assert "OrderFilled" in schemas and "SubmitOrder" in schemas and "BookDeltas" in schemas


def test_schema_names_the_fields_and_types_of_an_encoded_command() -> None:
    cmd = SubmitOrder(
        client_order_id=ClientOrderId("C1"),
        strategy_id=StrategyId("S"),
        instrument_id=btc_perp().id,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("0.001"),
        price=Decimal("61000.1"),
        ts_init=1,
    )
    encoded = json.loads(msgspec.json.encode(cmd))
    schema = all_schemas()["SubmitOrder"]
    body = schema["$defs"]["SubmitOrder"]
    assert set(body["required"]) <= set(encoded)
    assert set(encoded) <= set(body["properties"])
    assert encoded["type"] == "SubmitOrder" and encoded["price"] == "61000.1"  # exact decimal as a string


def test_schema_command_writes_one_file_per_type(tmp_path: Path) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert len(files) == len(EVENT_TYPES) + len(COMMAND_TYPES) + len(DATA_TYPES)
    assert json.loads((tmp_path / "OrderFilled.json").read_text())["$ref"] == "#/$defs/OrderFilled"
