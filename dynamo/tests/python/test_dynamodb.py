"""boto3 (client and resource layers) against the endpoint: tables, every operation,
expressions, paging, batches, transactions, indexes, TTL, and DynamoDB's errors."""

import time
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from conftest import create, unique


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


# ---- tables -------------------------------------------------------------------------------

def test_table_lifecycle(client, resource):
    name = unique()
    t = create(resource, name=name, range_key=("sk", "N"))
    d = client.describe_table(TableName=name)["Table"]
    assert d["TableStatus"] == "ACTIVE"
    assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert d["ItemCount"] == 0
    assert d["TableArn"].endswith(f":table/{name}")
    assert name in client.list_tables()["TableNames"]
    with pytest.raises(ClientError) as e:
        create(resource, name=name)
    assert error(e) == ("ResourceInUseException", f"Table already exists: {name}")
    t.put_item(Item={"pk": "a", "sk": 1, "x": "y"})
    assert client.describe_table(TableName=name)["Table"]["ItemCount"] == 1
    t.delete()
    with pytest.raises(ClientError) as e:
        client.describe_table(TableName=name)
    assert error(e)[0] == "ResourceNotFoundException"


def test_list_tables_paging(client, resource):
    names = sorted(unique("page") for _ in range(3))
    tables = [create(resource, name=n) for n in names]
    try:
        seen, start = [], None
        for _ in range(50):
            kw = {"Limit": 2}
            if start:
                kw["ExclusiveStartTableName"] = start
            r = client.list_tables(**kw)
            assert len(r["TableNames"]) <= 2
            seen += r["TableNames"]
            start = r.get("LastEvaluatedTableName")
            if not start:
                break
        assert all(n in seen for n in names)
        assert seen == sorted(seen)
    finally:
        for t in tables:
            t.delete()


def test_create_table_validation(client):
    with pytest.raises(ClientError) as e:
        client.create_table(TableName="ab", KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    # CreateTable's words for a TableName of the wrong length, as DynamoDB answers since 2026
    # (the DynamoDB Conformance Suite's captures; dynalite's createTable.js had its own words).
    assert error(e) == ("ValidationException", "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3")
    with pytest.raises(ClientError) as e:
        client.create_table(TableName=unique(), KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}, {"AttributeName": "q", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
    assert error(e)[1] == "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"


# ---- items and types ----------------------------------------------------------------------

def test_every_type_round_trips(table_s):
    item = {
        "pk": "all", "s": "x", "n": Decimal("-12.50"), "big": Decimal("3.1415926535897932384626433832795028841"),
        "b": b"\x00\x01\xff", "t": True, "z": None, "m": {"a": [1, "two", {"c": False}]},
        "l": [], "ss": {"a", "b"}, "ns": {Decimal(1), Decimal("2.5")}, "bs": {b"x", b"y"}, "empty": "",
    }
    table_s.put_item(Item=item)
    got = table_s.get_item(Key={"pk": "all"}, ConsistentRead=True)["Item"]
    assert got == item
    assert str(got["n"]) == "-12.5"


def test_numbers_keep_38_digits_and_refuse_more(client, table_s):
    table_s.update_item(Key={"pk": "n"}, UpdateExpression="SET a = :a + :b",
                        ExpressionAttributeValues={":a": Decimal("10000000000000000000000"), ":b": Decimal(1)})
    assert table_s.get_item(Key={"pk": "n"})["Item"]["a"] == Decimal("10000000000000000000001")
    for bad, word in [("1e126", "overflow"), ("1e-131", "underflow"), ("3.14159265358979323846264338327950288419", "significant")]:
        with pytest.raises(ClientError) as e:
            client.put_item(TableName=table_s.name, Item={"pk": {"S": "n"}, "x": {"N": bad}})
        assert word in error(e)[1]


def test_key_validation(client, table_sn):
    with pytest.raises(ClientError) as e:
        table_sn.put_item(Item={"pk": "a"})
    assert error(e) == ("ValidationException", "One or more parameter values were invalid: Missing the key sk in the item")
    with pytest.raises(ClientError) as e:
        table_sn.put_item(Item={"pk": "a", "sk": "1"})
    assert error(e) == ("ValidationException", "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S")
    with pytest.raises(ClientError) as e:
        table_sn.get_item(Key={"pk": "a"})
    assert error(e) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        table_sn.put_item(Item={"pk": "", "sk": 1})
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        table_sn.put_item(Item={"pk": "big", "sk": 1, "v": "x" * (400 * 1024)})
    assert error(e) == ("ValidationException", "Item size has exceeded the maximum allowed size")


# ---- conditions, updates, return values ---------------------------------------------------

def test_conditional_writes(table_s):
    table_s.put_item(Item={"pk": "c", "v": 1}, ConditionExpression=Attr("pk").not_exists())
    with pytest.raises(ClientError) as e:
        table_s.put_item(Item={"pk": "c", "v": 2}, ConditionExpression="attribute_not_exists(pk)",
                         ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert e.value.response["Item"] == {"pk": {"S": "c"}, "v": {"N": "1"}}
    table_s.delete_item(Key={"pk": "c"}, ConditionExpression=Attr("v").eq(1) & Attr("w").not_exists())
    assert "Item" not in table_s.get_item(Key={"pk": "c"})


def test_update_expression_clauses(table_s):
    table_s.put_item(Item={"pk": "u", "n": 1, "l": [1, 2, 3], "m": {"a": 1}, "s": {"x", "y"}})
    r = table_s.update_item(
        Key={"pk": "u"},
        UpdateExpression="SET n = n + :one, m.b = :two, l[5] = :nine, newl = list_append(if_not_exists(newl, :empty), :l) "
                         "REMOVE l[0] ADD cnt :one, s2 :z DELETE s :x",
        ExpressionAttributeValues={":one": 1, ":two": 2, ":nine": 9, ":empty": [], ":l": ["q"], ":z": {"z"}, ":x": {"x"}},
        ReturnValues="ALL_NEW",
    )
    assert r["Attributes"] == {"pk": "u", "n": 2, "l": [2, 3, 9], "m": {"a": 1, "b": 2}, "newl": ["q"], "cnt": 1, "s": {"y"}, "s2": {"z"}}
    r = table_s.update_item(Key={"pk": "u"}, UpdateExpression="SET n = :v", ExpressionAttributeValues={":v": 7}, ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"n": 2}


# UpdateItem words every check of its parameters and expressions as request validation
# ("1 validation error detected: …"), as DynamoDB has since mid-2026 in every region the
# DynamoDB Conformance Suite samples (its captures/2026-08-12-wording-drift.json); a check
# against the key schema keeps its words.
@pytest.mark.parametrize("expr, values, names, message", [
    ("SET a = :v1, a = :v2", {":v1": 1, ":v2": 2}, None,
     "1 validation error detected: Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ("SET a = :v", {":v": 1, ":w": 2}, None,
     "1 validation error detected: Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
    ("SET #n = :v", {":v": 1}, None,
     "1 validation error detected: Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #n"),
    ("SET name = :v", {":v": 1}, None, "1 validation error detected: Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"),
    ("SET a = ", None, None, '1 validation error detected: Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "="'),
    ("SET a = :v REMOVE b SET c = :v", {":v": 1}, None,
     '1 validation error detected: Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'),
    ("ADD a :v", {":v": "s"}, None,
     "1 validation error detected: Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
    ("SET pk = :v", {":v": "x"}, None,
     "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"),
])
def test_update_expression_errors(table_s, expr, values, names, message):
    kw = {"Key": {"pk": "e"}, "UpdateExpression": expr}
    if values:
        kw["ExpressionAttributeValues"] = values
    if names:
        kw["ExpressionAttributeNames"] = names
    with pytest.raises(ClientError) as e:
        table_s.update_item(**kw)
    assert error(e) == ("ValidationException", message)


def test_update_runtime_errors(table_s):
    table_s.put_item(Item={"pk": "r", "s": "str"})
    cases = [
        ("SET x = absent", None, "The provided expression refers to an attribute that does not exist in the item"),
        ("SET x = s + :one", {":one": 1}, "An operand in the update expression has an incorrect data type"),
        ("SET q.r = :one", {":one": 1}, "The document path provided in the update expression is invalid for update"),
    ]
    for expr, values, message in cases:
        kw = {"Key": {"pk": "r"}, "UpdateExpression": expr}
        if values:
            kw["ExpressionAttributeValues"] = values
        with pytest.raises(ClientError) as e:
            table_s.update_item(**kw)
        assert error(e) == ("ValidationException", message)


def test_condition_functions(table_s):
    table_s.put_item(Item={"pk": "f", "s": "hello", "l": [1, 2], "ss": {"a"}, "n": 5})
    ok = [
        Attr("s").begins_with("he"), Attr("s").contains("ll"), Attr("ss").contains("a"), Attr("l").contains(2),
        Attr("s").size().eq(5), Attr("n").between(1, 9), Attr("n").is_in([4, 5]), Attr("s").attribute_type("S"),
        Attr("nope").not_exists() & ~Attr("n").lt(3),
    ]
    for c in ok:
        table_s.put_item(Item={"pk": "f", "s": "hello", "l": [1, 2], "ss": {"a"}, "n": 5}, ConditionExpression=c)
    with pytest.raises(ClientError):
        table_s.put_item(Item={"pk": "f"}, ConditionExpression=Attr("n").gt(5))


def test_legacy_parameters(client, table_s):
    client.put_item(TableName=table_s.name, Item={"pk": {"S": "old"}, "v": {"N": "1"}},
                    Expected={"pk": {"Exists": False}})
    client.update_item(TableName=table_s.name, Key={"pk": {"S": "old"}},
                       AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "2"}}, "w": {"Action": "PUT", "Value": {"S": "x"}}},
                       Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}})
    r = client.get_item(TableName=table_s.name, Key={"pk": {"S": "old"}}, AttributesToGet=["v", "w"])
    assert r["Item"] == {"v": {"N": "3"}, "w": {"S": "x"}}
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=table_s.name, Key={"pk": {"S": "old"}}, AttributesToGet=["v"], ProjectionExpression="v")
    assert error(e) == ("ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")


# ---- query, scan, paging ------------------------------------------------------------------

def test_query_orders_numbers_and_pages(table_sn):
    values = [10, -2, 3, -10, Decimal("0.5"), 1000, Decimal("-1.5"), 7]
    with table_sn.batch_writer() as w:
        for v in values:
            w.put_item(Item={"pk": "q", "sk": v, "f": v})
    seen, kw = [], {"KeyConditionExpression": Key("pk").eq("q"), "Limit": 3}
    while True:
        r = table_sn.query(**kw)
        seen += [i["sk"] for i in r["Items"]]
        if "LastEvaluatedKey" not in r:
            break
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    assert seen == sorted(values)
    r = table_sn.query(KeyConditionExpression=Key("pk").eq("q") & Key("sk").between(-2, 3), ScanIndexForward=False)
    assert [i["sk"] for i in r["Items"]] == [3, Decimal("0.5"), Decimal("-1.5"), -2]
    r = table_sn.query(KeyConditionExpression=Key("pk").eq("q"), FilterExpression=Attr("f").gt(0), Limit=4)
    assert (r["Count"], r["ScannedCount"]) == (1, 4)
    r = table_sn.query(KeyConditionExpression=Key("pk").eq("q"), Select="COUNT")
    assert r["Count"] == 8 and "Items" not in r


def test_query_errors(client, table_sn):
    cases = [
        ("sk = :v", {":v": {"N": "1"}}, "Query condition missed key schema element: pk"),
        ("pk = :v OR sk = :w", {":v": {"S": "a"}, ":w": {"N": "1"}}, "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :v", {":v": {"N": "1"}}, "One or more parameter values were invalid: Condition parameter type does not match schema type"),
    ]
    for expr, values, message in cases:
        with pytest.raises(ClientError) as e:
            client.query(TableName=table_sn.name, KeyConditionExpression=expr, ExpressionAttributeValues=values)
        assert error(e) == ("ValidationException", message)


def test_one_megabyte_pages(table_sn):
    pad = "x" * (100 * 1024)
    with table_sn.batch_writer() as w:
        for i in range(25):
            w.put_item(Item={"pk": "big", "sk": i, "pad": pad})
    r = table_sn.query(KeyConditionExpression=Key("pk").eq("big"))
    assert 9 <= len(r["Items"]) < 25 and "LastEvaluatedKey" in r
    total, kw = len(r["Items"]), {"ExclusiveStartKey": r["LastEvaluatedKey"]}
    while True:
        r = table_sn.query(KeyConditionExpression=Key("pk").eq("big"), **kw)
        total += len(r["Items"])
        if "LastEvaluatedKey" not in r:
            break
        kw = {"ExclusiveStartKey": r["LastEvaluatedKey"]}
    assert total == 25


def test_parallel_scan_segments(table_s):
    with table_s.batch_writer() as w:
        for i in range(50):
            w.put_item(Item={"pk": f"p{i}"})
    seen = []
    for seg in range(3):
        seen += [i["pk"] for i in table_s.scan(Segment=seg, TotalSegments=3)["Items"]]
    assert sorted(seen) == sorted(f"p{i}" for i in range(50))


# ---- indexes ------------------------------------------------------------------------------

def test_gsi_and_lsi(resource):
    t = create(
        resource, range_key=("sk", "N"), extra_attrs=[("g", "S"), ("score", "N")],
        lsis=[{"IndexName": "by_score", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "score", "KeyType": "RANGE"}],
               "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        gsis=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "score", "KeyType": "RANGE"}],
               "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["lvl"]}}],
    )
    try:
        t.put_item(Item={"pk": "a", "sk": 1, "g": "chess", "score": 30, "lvl": 2, "note": "n"})
        t.put_item(Item={"pk": "b", "sk": 1, "g": "chess", "score": 50})
        t.put_item(Item={"pk": "c", "sk": 1, "score": 10})
        r = t.query(IndexName="by_g", KeyConditionExpression=Key("g").eq("chess"), ScanIndexForward=False)
        assert [i["score"] for i in r["Items"]] == [50, 30]
        assert r["Items"][1] == {"pk": "a", "sk": 1, "g": "chess", "score": 30, "lvl": 2}
        t.update_item(Key={"pk": "a", "sk": 1}, UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": 70})
        t.update_item(Key={"pk": "b", "sk": 1}, UpdateExpression="REMOVE g")
        r = t.query(IndexName="by_g", KeyConditionExpression=Key("g").eq("chess"))
        assert [i["score"] for i in r["Items"]] == [70]
        r = t.query(IndexName="by_score", KeyConditionExpression=Key("pk").eq("a"), Select="ALL_ATTRIBUTES")
        assert r["Items"][0]["note"] == "n"
        with pytest.raises(ClientError) as e:
            t.put_item(Item={"pk": "d", "sk": 1, "g": 5})
        assert error(e)[1] == "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: by_g"
        with pytest.raises(ClientError) as e:
            t.query(IndexName="by_g", KeyConditionExpression=Key("g").eq("chess"), ConsistentRead=True)
        assert error(e) == ("ValidationException", "Consistent reads are not supported on global secondary indexes")
        d = t.meta.client.describe_table(TableName=t.name)["Table"]
        assert d["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
        assert d["GlobalSecondaryIndexes"][0]["ItemCount"] == 1
    finally:
        t.delete()


def test_partiql_statements(client, table_s):
    """ExecuteStatement as boto3 sends it: INSERT (a duplicate refused), SELECT with parameters,
    UPDATE and DELETE of the item the WHERE clause names."""
    t = table_s.name
    client.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'n': 1, 'l': ['x']}}")
    with pytest.raises(ClientError) as e:
        client.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a'}}")
    assert error(e)[0] == "DuplicateItemException"
    r = client.execute_statement(Statement=f"SELECT n FROM \"{t}\" WHERE pk = ?", Parameters=[{"S": "a"}])
    assert r["Items"] == [{"n": {"N": "1"}}]
    client.execute_statement(Statement=f"UPDATE \"{t}\" SET n = 2 REMOVE l WHERE pk = 'a'")
    assert client.get_item(TableName=t, Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}, "n": {"N": "2"}}
    client.execute_statement(Statement=f"DELETE FROM \"{t}\" WHERE pk = 'a'")
    assert client.execute_statement(Statement=f"SELECT * FROM \"{t}\"")["Items"] == []
    with pytest.raises(ClientError) as e:
        client.execute_statement(Statement=f"SELECT * FROM \"{t}\" WHERE pk = ?")
    assert error(e) == ("ValidationException", "Number of parameters in request and statement don't match.")


def test_partiql_batches_and_transactions(client, table_s):
    """BatchExecuteStatement answers each statement on its own; ExecuteTransaction writes all
    or nothing, and reads items by key."""
    t = table_s.name
    client.put_item(TableName=t, Item={"pk": {"S": "x"}, "n": {"N": "1"}})
    r = client.batch_execute_statement(Statements=[
        {"Statement": f'UPDATE "{t}" SET n = ? WHERE pk = ?', "Parameters": [{"N": "5"}, {"S": "x"}]},
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'y'}}"},
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'x'}}"},
        {"Statement": f'SELECT n FROM "{t}" WHERE pk = ?', "Parameters": [{"S": "x"}]},
        {"Statement": f'UPDATE "{t}" SET n = ? WHERE pk = ?', "Parameters": [{"N": "1"}]},
    ])["Responses"]
    assert r[0] == {"TableName": t} and r[1] == {"TableName": t}
    assert r[2]["Error"]["Code"] == "DuplicateItem"
    assert r[3] == {"TableName": t, "Item": {"n": {"N": "5"}}}
    assert r[4]["Error"] == {"Code": "ValidationError",
                             "Message": "Number of parameters in request and statement don't match."}
    # A transaction whose second write fails writes nothing.
    with pytest.raises(ClientError) as e:
        client.execute_transaction(TransactStatements=[
            {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'z'}}"},
            {"Statement": f"UPDATE \"{t}\" SET n = 9 WHERE pk = 'x' AND n = 0"},
        ])
    assert error(e)[0] == "TransactionCanceledException"
    assert "Item" not in client.get_item(TableName=t, Key={"pk": {"S": "z"}})
    client.execute_transaction(TransactStatements=[
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'z'}}"},
        {"Statement": f"DELETE FROM \"{t}\" WHERE pk = 'y'"},
    ])
    got = client.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT * FROM \"{t}\" WHERE pk = 'z'"},
        {"Statement": f"SELECT * FROM \"{t}\" WHERE pk = 'y'"},
    ])["Responses"]
    assert got == [{"Item": {"pk": {"S": "z"}}}, {}]


def test_gsi_with_multi_attribute_keys(resource):
    """A global index keyed on two partition and two sort attributes (DynamoDB, Nov 2025):
    items sort by both sort attributes, only complete items are indexed, and a Query names a
    left prefix of the sort attributes, equalities first."""
    schema = [{"AttributeName": "area", "KeyType": "HASH"}, {"AttributeName": "shop", "KeyType": "HASH"},
              {"AttributeName": "dt", "KeyType": "RANGE"}, {"AttributeName": "seq", "KeyType": "RANGE"}]
    t = create(resource, extra_attrs=[("area", "S"), ("shop", "N"), ("dt", "S"), ("seq", "N")],
               gsis=[{"IndexName": "by_area", "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}])
    try:
        d = t.meta.client.describe_table(TableName=t.name)["Table"]
        assert d["GlobalSecondaryIndexes"][0]["KeySchema"] == schema
        for pk, dt, seq in [("a", "mon", 10), ("b", "mon", 2), ("c", "tue", 1), ("d", "mon", -5)]:
            t.put_item(Item={"pk": pk, "area": "eu", "shop": 1, "dt": dt, "seq": seq})
        t.put_item(Item={"pk": "e", "area": "eu", "shop": 1, "dt": "mon"})  # no seq: not indexed
        part = Key("area").eq("eu") & Key("shop").eq(1)
        r = t.query(IndexName="by_area", KeyConditionExpression=part)
        assert [i["pk"] for i in r["Items"]] == ["d", "b", "a", "c"]
        r = t.query(IndexName="by_area", KeyConditionExpression=part & Key("dt").eq("mon") & Key("seq").gt(0))
        assert [i["pk"] for i in r["Items"]] == ["b", "a"]
        with pytest.raises(ClientError) as e:
            t.query(IndexName="by_area", KeyConditionExpression=part & Key("seq").gt(0))
        assert error(e)[0] == "ValidationException" and "dt" in error(e)[1]
    finally:
        t.delete()


# ---- batches and transactions -------------------------------------------------------------

def test_batches(client, table_s):
    with table_s.batch_writer() as w:
        for i in range(60):
            w.put_item(Item={"pk": f"b{i}", "v": i})
    keys = [{"pk": {"S": f"b{i}"}} for i in range(0, 60, 2)] + [{"pk": {"S": "none"}}]
    r = client.batch_get_item(RequestItems={table_s.name: {"Keys": keys, "ProjectionExpression": "v"}}, ReturnConsumedCapacity="TOTAL")
    assert sorted(int(i["v"]["N"]) for i in r["Responses"][table_s.name]) == list(range(0, 60, 2))
    assert r["UnprocessedKeys"] == {}
    with pytest.raises(ClientError) as e:
        client.batch_write_item(RequestItems={table_s.name: [{"PutRequest": {"Item": {"pk": {"S": f"x{i}"}}}} for i in range(26)]})
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        client.batch_get_item(RequestItems={table_s.name: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}})
    assert error(e) == ("ValidationException", "Provided list of item keys contains duplicates")


def test_transactions(client, table_s):
    client.put_item(TableName=table_s.name, Item={"pk": {"S": "acct1"}, "bal": {"N": "100"}})
    client.put_item(TableName=table_s.name, Item={"pk": {"S": "acct2"}, "bal": {"N": "0"}})

    def transfer(amount, token=None):
        kw = {"TransactItems": [
            {"Update": {"TableName": table_s.name, "Key": {"pk": {"S": "acct1"}}, "UpdateExpression": "SET bal = bal - :a",
                        "ConditionExpression": "bal >= :a", "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
            {"Update": {"TableName": table_s.name, "Key": {"pk": {"S": "acct2"}}, "UpdateExpression": "SET bal = bal + :a",
                        "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
        ]}
        if token:
            kw["ClientRequestToken"] = token
        return client.transact_write_items(**kw)

    token = unique("tok")  # tokens are account-wide: a fixed one would collide across runs
    transfer(30, token=token)
    transfer(30, token=token)  # idempotent: applied once
    with pytest.raises(ClientError) as e:
        transfer(500)
    assert error(e)[0] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    r = client.transact_get_items(TransactItems=[{"Get": {"TableName": table_s.name, "Key": {"pk": {"S": k}}}} for k in ("acct1", "acct2")])
    assert [x["Item"]["bal"]["N"] for x in r["Responses"]] == ["70", "30"]
    with pytest.raises(ClientError) as e:
        client.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": table_s.name, "Key": {"pk": {"S": "acct1"}}, "ConditionExpression": "attribute_exists(pk)"}},
            {"Delete": {"TableName": table_s.name, "Key": {"pk": {"S": "acct1"}}}},
        ])
    assert error(e) == ("ValidationException", "Transaction request cannot include multiple operations on one item")


# ---- TTL and capacity ---------------------------------------------------------------------

def test_ttl_settings(client, table_s):
    assert client.describe_time_to_live(TableName=table_s.name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    r = client.update_time_to_live(TableName=table_s.name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    assert r["TimeToLiveSpecification"] == {"AttributeName": "exp", "Enabled": True}
    d = client.describe_time_to_live(TableName=table_s.name)["TimeToLiveDescription"]
    assert d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    with pytest.raises(ClientError) as e:
        client.update_time_to_live(TableName=table_s.name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    assert error(e) == ("ValidationException", "TimeToLive is already enabled")
    # Nothing queued: DISABLED at once.
    client.update_time_to_live(TableName=table_s.name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": False})
    assert ttl_status(client, table_s) == "DISABLED"

    # On a table with items, ENABLING until the items are queued and DISABLING until the
    # queue is empty, both carried out in the background: waited for as DynamoDB's users wait.
    with table_s.batch_writer() as w:
        for i in range(300):
            w.put_item(Item={"pk": f"t{i}", "exp": 2_000_000_000 + i})
    client.update_time_to_live(TableName=table_s.name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    assert ttl_status(client, table_s) in ("ENABLING", "ENABLED")
    assert wait_ttl(client, table_s, "ENABLED")
    client.update_time_to_live(TableName=table_s.name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": False})
    assert ttl_status(client, table_s) in ("DISABLING", "DISABLED")
    assert wait_ttl(client, table_s, "DISABLED")


def ttl_status(client, table):
    return client.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]["TimeToLiveStatus"]


def wait_ttl(client, table, status):
    for _ in range(200):
        if ttl_status(client, table) == status:
            return True
        time.sleep(0.05)
    return False


def test_consumed_capacity(client, table_s):
    r = client.put_item(TableName=table_s.name, Item={"pk": {"S": "cap"}, "v": {"S": "x" * 1500}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 2.0
    r = client.get_item(TableName=table_s.name, Key={"pk": {"S": "cap"}}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 0.5
    r = client.get_item(TableName=table_s.name, Key={"pk": {"S": "cap"}}, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert r["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0


def test_unknown_table_and_operation_errors(client):
    with pytest.raises(ClientError) as e:
        client.get_item(TableName="no-such-table", Key={"pk": {"S": "a"}})
    # An item operation's message does not name the table; DescribeTable's does.
    assert error(e) == ("ResourceNotFoundException", "Requested resource not found")
    with pytest.raises(ClientError) as e:
        client.describe_table(TableName="no-such-table")
    assert error(e) == ("ResourceNotFoundException", "Requested resource not found: Table: no-such-table not found")


# ---- UpdateTable, tags, limits --------------------------------------------------------------

def test_update_table_adds_an_index_to_a_table_with_items(client, resource, table_s):
    """What a migration does: a global index added to a table in use, built online (CREATING,
    Backfilling) while the table takes writes, waited for as DynamoDB's users wait for it —
    polling DescribeTable until the index is ACTIVE — then queried; then removed. Billing mode
    and deletion protection too."""
    for pk, team, age in [("a", "red", 30), ("b", "red", 25), ("c", "blue", 41)]:
        table_s.put_item(Item={"pk": pk, "team": team, "age": age})
    r = client.update_table(
        TableName=table_s.name,
        AttributeDefinitions=[{"AttributeName": "team", "AttributeType": "S"},
                              {"AttributeName": "age", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_team",
            "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"},
                          {"AttributeName": "age", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}}],
    )
    gsi = r["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert (gsi["IndexName"], gsi["IndexStatus"], gsi["Backfilling"]) == ("by_team", "CREATING", True)
    # A write while the index is being built is in it once it is ACTIVE.
    table_s.put_item(Item={"pk": "d", "team": "red", "age": 27})
    for _ in range(200):
        gsi = client.describe_table(TableName=table_s.name)["Table"]["GlobalSecondaryIndexes"][0]
        if gsi["IndexStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    assert gsi["IndexStatus"] == "ACTIVE" and "Backfilling" not in gsi
    assert gsi["ItemCount"] == 4
    got = table_s.query(IndexName="by_team", KeyConditionExpression=Key("team").eq("red"))
    assert [i["pk"] for i in got["Items"]] == ["b", "d", "a"]
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=table_s.name)
    assert error(e)[0] == "ValidationException"
    # A table class is recorded and shown (it changes what AWS bills, nothing a request sees).
    r = client.update_table(TableName=table_s.name, TableClass="STANDARD_INFREQUENT_ACCESS")
    summary = r["TableDescription"]["TableClassSummary"]
    assert summary["TableClass"] == "STANDARD_INFREQUENT_ACCESS" and "LastUpdateDateTime" in summary
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=table_s.name, TableClass="standard")
    assert error(e)[0] == "ValidationException" and "table class" in error(e)[1]
    # What the server does not have is refused by name, not ignored.
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=table_s.name, SSESpecification={"Enabled": True})
    assert "SSESpecification" in error(e)[1]

    r = client.update_table(TableName=table_s.name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_team"}}])
    # DELETING while its entries are deleted in the background, then gone.
    assert [(g["IndexName"], g["IndexStatus"]) for g in r["TableDescription"]["GlobalSecondaryIndexes"]] == [("by_team", "DELETING")]
    assert [a["AttributeName"] for a in r["TableDescription"]["AttributeDefinitions"]] == ["pk"]
    for _ in range(200):
        if "GlobalSecondaryIndexes" not in client.describe_table(TableName=table_s.name)["Table"]:
            break
        time.sleep(0.05)
    assert "GlobalSecondaryIndexes" not in client.describe_table(TableName=table_s.name)["Table"]
    with pytest.raises(ClientError) as e:
        table_s.query(IndexName="by_team", KeyConditionExpression=Key("team").eq("red"))
    assert error(e)[0] == "ValidationException"

    r = client.update_table(TableName=table_s.name, BillingMode="PROVISIONED",
                            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert r["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    client.update_table(TableName=table_s.name, DeletionProtectionEnabled=True)
    assert client.describe_table(TableName=table_s.name)["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as e:
        client.delete_table(TableName=table_s.name)
    assert "protected against deletion" in error(e)[1]
    client.update_table(TableName=table_s.name, DeletionProtectionEnabled=False)


def test_tags_and_limits(client, table_s):
    arn = client.describe_table(TableName=table_s.name)["Table"]["TableArn"]
    assert client.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "test"}])
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "ci"}])
    assert client.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "ci"}]
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert client.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "ci"}]
    with pytest.raises(ClientError) as e:
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        client.list_tags_of_resource(ResourceArn=arn + "-gone")
    assert error(e)[0] == "ResourceNotFoundException"
    limits = client.describe_limits()
    assert limits["AccountMaxReadCapacityUnits"] == 80000 and limits["TableMaxWriteCapacityUnits"] == 40000


# ---- DynamoDB Streams -----------------------------------------------------------------------

def test_streams_record_every_change_for_a_reader(server, client, resource):
    """A change-data-capture reader as people write one with boto3's `dynamodbstreams`
    client: find the stream, list its shards, read from the horizon following
    NextShardIterator; then the stream disabled, read to the end of its shard."""
    streams = server.streams()
    name = unique("stream")
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    try:
        table = resource.Table(name)
        d = client.describe_table(TableName=name)["Table"]
        assert d["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        arn = d["LatestStreamArn"]
        assert arn.startswith(d["TableArn"] + "/stream/") and arn.endswith(d["LatestStreamLabel"])
        assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]

        table.put_item(Item={"pk": "a", "qty": 1})
        table.update_item(Key={"pk": "a"}, UpdateExpression="SET qty = :q", ExpressionAttributeValues={":q": 2})
        table.put_item(Item={"pk": "a", "qty": 2})  # unchanged: no record
        table.delete_item(Key={"pk": "a"})

        desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        assert desc["StreamStatus"] == "ENABLED" and desc["TableName"] == name
        assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        shard = desc["Shards"][0]
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        while it:
            page = streams.get_records(ShardIterator=it, Limit=2)
            records += page["Records"]
            if not page["Records"]:
                break
            it = page.get("NextShardIterator")
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        modify = records[1]
        assert modify["eventSource"] == "aws:dynamodb" and modify["awsRegion"] == "us-east-1"
        assert modify["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
        assert modify["dynamodb"]["OldImage"]["qty"] == {"N": "1"}
        assert modify["dynamodb"]["NewImage"]["qty"] == {"N": "2"}
        assert "NewImage" not in records[2]["dynamodb"]
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        assert seqs == sorted(seqs) and len(set(r["eventID"] for r in records)) == 3

        # AFTER the first record's number: the other two.
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                        SequenceNumber=seqs[0])["ShardIterator"]
        assert [r["eventName"] for r in streams.get_records(ShardIterator=it)["Records"]] == ["MODIFY", "REMOVE"]

        # Disabled: the shard ends where the records end; a reader reaches its end.
        client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        assert desc["StreamStatus"] == "DISABLED"
        assert desc["Shards"][0]["SequenceNumberRange"]["EndingSequenceNumber"] == seqs[-1]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="LATEST")["ShardIterator"]
        page = streams.get_records(ShardIterator=it)
        assert page["Records"] == [] and "NextShardIterator" not in page

        with pytest.raises(ClientError) as e:
            streams.describe_stream(StreamArn=arn + "x")
        assert error(e)[0] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as e:
            streams.get_records(ShardIterator="nonsense")
        assert error(e)[0] == "ValidationException"
    finally:
        client.delete_table(TableName=name)
