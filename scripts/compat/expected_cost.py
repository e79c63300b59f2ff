"""The exact expected cost of every call in a compat ground-truth log, computed independently of
costtrace's code: Python's Decimal only, from the usage the fake server reported and the prices
in a costtrace price snapshot file (data, not code).

    python expected_cost.py [--cached-as-input] GROUND_TRUTH.jsonl [PRICES.json]
                                                  (default: prices.json beside this file)

--cached-as-input: the upper bound costtrace reports for emitters that write no cached-token
count: OpenAI cached prompt tokens billed as uncached input.

Prints one JSON line per call: {"id", "api", "model", "sku", "stream", "cost", "items"}: cost is the
exact total as a decimal string, items the line items (kind, quantity, unit price, amount).

costtrace's pricing rule (docs/money-and-pricing.md, "The rounding rule"): each line item = price x quantity / unit
size, rounded once, half to even, to 12 decimal places; the total is the sum of the line items.
  OpenAI (chat.completions: prompt_tokens, cached_tokens, completion_tokens; responses:
  input_tokens, cached_tokens, output_tokens): uncached input = input - cached at the input price,
  cached at the cache-read price, output (reasoning included) at the output price.
  Anthropic: input_tokens at the input price, cache_read_input_tokens at the cache-read price,
  cache_creation_input_tokens at the cache-write price, output_tokens at the output price.
A token kind without a price of its own is billed as uncached input (cache read / write) or as
output (reasoning); a reasoning price, where the file has one, bills reasoning tokens apart from
the rest of the output. The model resolves to a price SKU as costtrace's snapshot does: the exact
name, else lower-cased, else with trailing "-suffix" parts removed one at a time.
"""

import json
import os
import sys
from decimal import ROUND_HALF_EVEN, Decimal

UNIT_SIZE = {"token": Decimal(1), "1m_tokens": Decimal(1_000_000)}
QUANTUM = Decimal("0.000000000001")  # 12 decimal places


def load_prices(path):
    doc = json.load(open(path, encoding="utf-8"))
    if doc.get("format") != "costtrace.price-snapshot.v1":
        raise SystemExit(f"{path}: not a costtrace price snapshot (format costtrace.price-snapshot.v1)")
    table = {}
    for p in doc["prices"]:
        if p.get("resourceType") != "model" or p.get("region", "") not in ("", None):
            continue
        if p.get("serviceTier", "standard") != "standard" or p.get("pricingModel", "on_demand") != "on_demand":
            continue
        if int(p.get("aboveInputTokens", 0) or 0) != 0:
            continue
        key = (p["provider"].lower(), p["sku"].lower())
        # The latest effective price of each kind (these files hold one version per kind).
        prev = table.setdefault(key, {}).get(p["kind"])
        if prev is None or p["effectiveFrom"] > prev["effectiveFrom"]:
            table[key][p["kind"]] = {
                "amount": Decimal(p["amount"]),
                "unit": p["unit"],
                "effectiveFrom": p["effectiveFrom"],
                "currency": p.get("currency", "USD"),
            }
    return table


def resolve_sku(table, provider, model):
    skus = {sku for (prov, sku) in table if prov == provider}
    if model in skus:
        return model
    candidate = model.lower()
    while True:
        if candidate in skus:
            return candidate
        cut = candidate.rfind("-")
        if cut <= 0:
            return None
        candidate = candidate[:cut]


def line_item(kind, quantity, price):
    amount = (price["amount"] * Decimal(quantity) / UNIT_SIZE[price["unit"]]).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
    return {"kind": kind, "quantity": quantity, "price": str(price["amount"]), "unit": price["unit"], "amount": amount}


def quantities(call, cached_as_input=False):
    """Disjoint token counts (input, cache_read, cache_write, reasoning, output) of a call."""
    u = call["usage"]
    if call["api"] == "openai":
        if call["endpoint"] == "responses":
            total_in, total_out = u["input_tokens"], u["output_tokens"]
            cached = (u.get("input_tokens_details") or {}).get("cached_tokens") or 0
            reasoning = (u.get("output_tokens_details") or {}).get("reasoning_tokens") or 0
        else:
            total_in, total_out = u["prompt_tokens"], u["completion_tokens"]
            cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            reasoning = (u.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
        if cached_as_input:
            cached = 0
        return {"input": total_in - cached, "cache_read": cached, "cache_write": 0, "reasoning": reasoning, "output": total_out}
    if call["api"] == "anthropic":
        reasoning = (u.get("output_tokens_details") or {}).get("thinking_tokens") or 0
        return {
            "input": u["input_tokens"],
            "cache_read": u.get("cache_read_input_tokens") or 0,
            "cache_write": u.get("cache_creation_input_tokens") or 0,
            "reasoning": reasoning,
            "output": u["output_tokens"],
        }
    raise SystemExit(f"unknown api {call['api']!r}")


def expected(call, table, cached_as_input=False):
    provider = call["api"]
    sku = resolve_sku(table, provider, call["model"])
    if sku is None:
        return {"sku": None, "cost": None, "reason": "unknown_model", "items": []}
    prices = table[(provider, sku)]
    q = quantities(call, cached_as_input)
    items = []
    input_tokens = q["input"]
    for kind, price_kind in (("cache_read", "cache_read_tokens"), ("cache_write", "cache_write_tokens")):
        if q[kind] == 0:
            continue
        if price_kind in prices:
            items.append(line_item(price_kind, q[kind], prices[price_kind]))
        else:
            input_tokens += q[kind]  # no cache price: billed as uncached input
    output_tokens = q["output"]
    if q["reasoning"] and "reasoning_tokens" in prices:
        items.append(line_item("reasoning_tokens", q["reasoning"], prices["reasoning_tokens"]))
        output_tokens -= q["reasoning"]
    if input_tokens:
        items.insert(0, line_item("input_tokens", input_tokens, prices["input_tokens"]))
    if output_tokens:
        items.append(line_item("output_tokens", output_tokens, prices["output_tokens"]))
    total = sum((i["amount"] for i in items), Decimal(0)).quantize(QUANTUM)
    return {"sku": sku, "cost": str(total), "items": [{**i, "amount": str(i["amount"])} for i in items]}


def main():
    args = sys.argv[1:]
    cached_as_input = "--cached-as-input" in args
    args = [a for a in args if a != "--cached-as-input"]
    if len(args) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    prices_path = args[1] if len(args) == 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "prices.json")
    table = load_prices(prices_path)
    for line in open(args[0], encoding="utf-8"):
        if not line.strip():
            continue
        call = json.loads(line)
        out = {"id": call["id"], "api": call["api"], "endpoint": call["endpoint"], "model": call["model"], "stream": call["stream"]}
        out.update(expected(call, table, cached_as_input))
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
