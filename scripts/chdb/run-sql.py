"""Runs a schema, loads files and runs queries in chDB (a current ClickHouse engine).

Reads a JSON job from stdin:
  {"statements": [sql...],
   "loads": [{"table": "db.t", "columns": ["a", ...], "path": "/file", "format": "RowBinary"}],
   (format: any ClickHouse input format; default TabSeparated)
   "queries": {"name": "SELECT ..."}}
and prints {"version": "...", "results": {"name": [row objects...]}} as JSON on stdout.
Rows come from JSONEachRow with 64-bit integers unquoted, as the Node client reads them.
"""
import json
import sys

from chdb import session


def main() -> None:
    job = json.load(sys.stdin)
    sess = session.Session()
    try:
        for statement in job["statements"]:
            sess.query(statement)
        for load in job["loads"]:
            table = load["table"]
            described = sess.query(f"DESCRIBE TABLE {table}", "JSONEachRow").bytes().decode()
            types = {}
            for line in described.splitlines():
                if line.strip():
                    column = json.loads(line)
                    types[column["name"]] = column["type"]
            structure = ", ".join(f"{c} {types[c]}" for c in load["columns"]).replace("'", "\\'")
            columns = ", ".join(load["columns"])
            fmt = load.get("format", "TabSeparated")
            sess.query(f"INSERT INTO {table} ({columns}) SELECT * FROM file('{load['path']}', '{fmt}', '{structure}')")
        results = {}
        for name, sql in job["queries"].items():
            text = sess.query(f"{sql} SETTINGS output_format_json_quote_64bit_integers = 0", "JSONEachRow").bytes().decode()
            results[name] = [json.loads(line) for line in text.splitlines() if line.strip()]
        version = sess.query("SELECT version()", "TSV").bytes().decode().strip()
        json.dump({"version": version, "results": results}, sys.stdout)
    finally:
        sess.close()


if __name__ == "__main__":
    main()
