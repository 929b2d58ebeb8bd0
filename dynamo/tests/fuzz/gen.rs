//! Random DynamoDB requests: mostly well formed, so they reach the expression parser, the
//! table layer and the LSM rather than stopping at the first shape check, with the values,
//! expressions and parameters that sit at DynamoDB's limits.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

/// The tables every run starts with (created by [`setup`]), and their key attributes:
/// (name, hash key, its type, range key and type).
pub const TABLES: [Table; 3] = [
    ("hash_s", "pk", "S", None),
    ("range_n", "pk", "S", Some(("sk", "N"))),
    ("bin", "pk", "B", Some(("sk", "B"))),
];

/// The requests that make the tables: a local and a global index (the global one with its
/// own range key), an INCLUDE projection over binary keys, a stream and TTL.
pub fn setup() -> Vec<(&'static str, Value)> {
    vec![
        (
            "CreateTable",
            json!({"TableName": "hash_s", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
        ),
        (
            "CreateTable",
            json!({"TableName": "range_n", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "a", "AttributeType": "N"},
                    {"AttributeName": "b", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "LocalSecondaryIndexes": [{"IndexName": "lsi",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "a", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                "GlobalSecondaryIndexes": [{"IndexName": "gsi",
                    "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}}),
        ),
        (
            "CreateTable",
            json!({"TableName": "bin", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "B"},
                    {"AttributeName": "sk", "AttributeType": "B"},
                    {"AttributeName": "c", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "GlobalSecondaryIndexes": [{"IndexName": "by_c",
                    "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "list"]}}]}),
        ),
        (
            "UpdateTimeToLive",
            json!({"TableName": "range_n",
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": true}}),
        ),
    ]
}

/// A table: name, hash key and type, range key and type.
type Table = (
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// The type of a key attribute of a table or of one of its indexes.
fn key_type(t: Table, attr: &str) -> &'static str {
    match attr {
        "pk" => t.2,
        "sk" => t.3.map_or("S", |r| r.1),
        "a" => "N",
        _ => "S",
    }
}

/// One request generator, all its randomness from one seeded stream.
pub struct Gen {
    pub rng: ChaCha8Rng,
    /// This request breaks no rule on purpose (most do not: each fault below is injected in
    /// the others only, at three times its rate), so that enough requests get past the
    /// checks to the expressions, the table layer and the LSM behind them.
    clean: bool,
}

/// Attribute names: the tables' keys and index keys (so writes move index entries), names
/// DynamoDB reserves, names that look like paths, and the empty name.
const NAMES: &[&str] = &[
    "pk", "sk", "a", "b", "c", "list", "map", "lst", "mp", "ttl", "size", "name", "status", "a.b",
    "x y", "", "ünï", "Ω",
];

const OPERATIONS: &[&str] = &[
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
    "DescribeTable",
    "ListTables",
    "UpdateTable",
    "CreateTable",
    "DescribeTimeToLive",
    "UpdateTimeToLive",
    "TagResource",
    "ListTagsOfResource",
    "DescribeLimits",
    "DescribeEndpoints",
];

impl Gen {
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// Inject a fault here? Never in a clean request.
    fn bad(&mut self, p: f64) -> bool {
        !self.clean && self.chance((p * 3.0).min(1.0))
    }

    /// One of `all`, or of `valid` in a clean request.
    fn pick_or<T: Copy>(&mut self, all: &[T], valid: &[T]) -> T {
        if self.clean {
            *self.pick(valid)
        } else {
            *self.pick(all)
        }
    }

    /// A case in `0..n`, other than the `faulty` ones in a clean request.
    fn case(&mut self, n: u32, faulty: &[u32]) -> u32 {
        loop {
            let c = self.rng.random_range(0..n);
            if !self.clean || !faulty.contains(&c) {
                return c;
            }
        }
    }

    /// A string: short ASCII mostly; sometimes empty, multi-byte, control characters or long.
    pub fn string(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 => String::new(),
            1 => "ü€𝄞\u{0}\u{7f}\"\\"
                .chars()
                .take(self.rng.random_range(1..7))
                .collect(),
            2 => "x".repeat(self.rng.random_range(200..3000)),
            _ => {
                let n = self.rng.random_range(1..6);
                (0..n)
                    .map(|_| char::from(b'a' + self.rng.random_range(0..4u8)))
                    .collect()
            }
        }
    }

    /// A number as DynamoDB's wire carries it: ordinary, at the 38-digit and exponent limits,
    /// and text that is no number at all.
    pub fn number(&mut self) -> String {
        match self.case(40, &[1, 3, 5, 8, 9]) {
            0 => "9".repeat(38),
            1 => "9".repeat(39),
            2 => "1E+125".into(),
            3 => "1E+126".into(),
            4 => "1E-130".into(),
            5 => "1E-131".into(),
            6 => "-0".into(),
            7 => "0.000".into(),
            8 => self
                .pick(&[
                    "", " 1", "+1", "1.2.3", "NaN", "Infinity", "0x10", "1e", "-",
                ])
                .to_string(),
            9 => format!(
                "{}e{}",
                self.rng.random_range(-5..5),
                self.rng.random_range(-200..200)
            ),
            10 => format!("{}.{}", self.rng.random::<i64>(), self.rng.random::<u32>()),
            _ => self.rng.random_range(-20..20).to_string(),
        }
    }

    /// Base64 of random bytes, or text that is not base64.
    pub fn binary(&mut self) -> String {
        use base64::Engine;
        match self.case(24, &[1]) {
            0 => String::new(),
            1 => self
                .pick(&["!!", "QQ", "QQ=", "Q", "QUJD=", "\u{e9}"])
                .to_string(),
            _ => {
                let n = self.rng.random_range(1..5);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.random_range(0..3u8)).collect();
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
        }
    }

    /// A typed attribute value, nested up to `depth` more levels (deeper than DynamoDB's 32
    /// now and then), or one of the malformed forms a client can send.
    pub fn value(&mut self, depth: u32) -> Value {
        let leaf = depth == 0;
        match self.rng.random_range(0..if leaf { 10 } else { 13 }) {
            _ if self.bad(0.01) => self
                .pick(&[
                    json!({}),
                    json!({"S": "a", "N": "1"}),
                    json!({"Z": "a"}),
                    json!({"S": 1}),
                    json!({"N": 1}),
                    json!({"L": {}}),
                    json!("a"),
                    json!(null),
                ])
                .clone(),
            0 | 1 => json!({"S": self.string()}),
            2 | 3 => json!({"N": self.number()}),
            4 => json!({"B": self.binary()}),
            5 => json!({"BOOL": self.chance(0.5)}),
            6 => json!({"NULL": !self.chance(0.1)}),
            7 => {
                let least = self.empty_set();
                let n = self.rng.random_range(least..4);
                json!({"SS": (0..n).map(|_| self.string()).collect::<Vec<_>>()})
            }
            8 => {
                let least = self.empty_set();
                let n = self.rng.random_range(least..4);
                json!({"NS": (0..n).map(|_| self.number()).collect::<Vec<_>>()})
            }
            9 => {
                let least = self.empty_set();
                let n = self.rng.random_range(least..3);
                json!({"BS": (0..n).map(|_| self.binary()).collect::<Vec<_>>()})
            }
            10 if self.bad(0.05) => self.nest(40),
            10 | 11 => {
                let n = self.rng.random_range(0..4);
                let mut m = Map::new();
                for _ in 0..n {
                    m.insert(self.name(), self.value(depth - 1));
                }
                json!({ "M": m })
            }
            _ => {
                let n = self.rng.random_range(0..4);
                json!({"L": (0..n).map(|_| self.value(depth - 1)).collect::<Vec<_>>()})
            }
        }
    }

    /// The least length of a set: now and then 0, which DynamoDB refuses.
    fn empty_set(&mut self) -> usize {
        usize::from(!self.bad(0.05))
    }

    /// A map nested `levels` deep: past DynamoDB's limit of 32 levels.
    fn nest(&mut self, levels: u32) -> Value {
        let mut v = json!({"S": "deep"});
        for _ in 0..levels {
            v = if self.chance(0.5) {
                json!({ "M": { "m": v } })
            } else {
                json!({ "L": [v] })
            };
        }
        v
    }

    pub fn name(&mut self) -> String {
        self.pick(NAMES).to_string()
    }

    /// A key attribute's value: of the key's type mostly, from a small set so that writes
    /// and reads meet on the same items.
    fn key_value(&mut self, ty: &str) -> Value {
        use base64::Engine;
        if self.bad(0.05) {
            return self.value(1);
        }
        let i = self.rng.random_range(0..6u8);
        match ty {
            "S" => json!({ "S": format!("k{i}") }),
            "N" => json!({ "N": format!("{}", i64::from(i) - 2) }),
            _ => json!({ "B": base64::engine::general_purpose::STANDARD.encode([i]) }),
        }
    }

    fn table(&mut self) -> Table {
        if self.bad(0.03) {
            return (*self.pick(&["nope", "", "a", "x;y"]), "pk", "S", None);
        }
        *self.pick(&TABLES)
    }

    /// A key of a table: its key attributes, now and then one missing or one too many.
    fn key(&mut self, t: Table) -> Value {
        let (_, hk, ht, range) = t;
        let mut m = Map::new();
        if !self.bad(0.03) {
            m.insert(hk.into(), self.key_value(ht));
        }
        if let Some((rk, rt)) = range {
            if !self.bad(0.03) {
                m.insert(rk.into(), self.key_value(rt));
            }
        }
        if self.bad(0.03) {
            m.insert(self.name(), self.value(1));
        }
        Value::Object(m)
    }

    /// An item: its key and a few more attributes (index keys among them).
    fn item(&mut self, t: Table) -> Value {
        let mut item = self.key(t);
        let n = self.rng.random_range(0..5);
        for _ in 0..n {
            let (name, v) = match self.rng.random_range(0..5) {
                0 => ("a".to_string(), json!({"N": self.number()})),
                1 => ("b".to_string(), json!({"S": self.string()})),
                2 => ("c".to_string(), json!({"S": self.string()})),
                3 => (
                    "ttl".to_string(),
                    json!({"N": self.rng.random_range(0..2_000_000_000u64).to_string()}),
                ),
                _ => (self.name(), self.value(3)),
            };
            if let Value::Object(m) = &mut item {
                m.insert(name, v);
            }
        }
        item
    }

    /// A document path, with `#n` placeholders (which [`Placeholders`] defines or not).
    fn path(&mut self, ph: &mut Placeholders) -> String {
        let mut p = self.path_element(ph);
        while self.chance(0.3) {
            if self.chance(0.5) {
                let i = if self.bad(0.02) {
                    *self.pick(&["99999999999", "-1", ""])
                } else {
                    *self.pick(&["0", "1", "3"])
                };
                p.push_str(&format!("[{i}]"));
            } else {
                p.push('.');
                p.push_str(&self.path_element(ph));
            }
        }
        p
    }

    fn path_element(&mut self, ph: &mut Placeholders) -> String {
        match self.rng.random_range(0..6) {
            0 | 1 => ph.name(self),
            _ if self.bad(0.02) => self.pick(&["size", "name", "status"]).to_string(),
            _ => self
                .pick(&["a", "b", "c", "lst", "mp", "pk", "sk", "x1"])
                .to_string(),
        }
    }

    fn operand(&mut self, ph: &mut Placeholders) -> String {
        match self.rng.random_range(0..5) {
            0 | 1 => self.path(ph),
            2 | 3 => ph.value(self),
            _ => format!("size({})", self.path(ph)),
        }
    }

    /// A path an update writes: not a key attribute (refused), in a clean request.
    fn target(&mut self, ph: &mut Placeholders) -> String {
        if !self.clean {
            return self.path(ph);
        }
        let mut p = self.pick(&["a", "b", "c", "lst", "mp", "x1"]).to_string();
        if self.chance(0.3) {
            let suffix = *self.pick(&[".x1", "[0]", ".mp.a"]);
            p.push_str(suffix);
        }
        p
    }

    /// An operand of an update's SET: a path or a value (a function call only now and then:
    /// `size` is a condition's function, refused in an update).
    fn update_operand(&mut self, ph: &mut Placeholders) -> String {
        match self.rng.random_range(0..20) {
            0 => format!("size({})", self.path(ph)),
            1..=9 => self.path(ph),
            _ => ph.value(self),
        }
    }

    /// A number for SET's arithmetic: mostly a small one, so the sum is one.
    fn number_operand(&mut self, ph: &mut Placeholders) -> String {
        if self.chance(0.8) {
            ph.typed(json!({"N": self.rng.random_range(-5..6).to_string()}))
        } else {
            self.update_operand(ph)
        }
    }

    /// A condition in DynamoDB's grammar, `depth` levels of AND / OR / NOT / parentheses.
    pub fn condition(&mut self, ph: &mut Placeholders, depth: u32) -> String {
        let c = if depth == 0 || self.chance(0.4) {
            match self.rng.random_range(0..9) {
                0 | 1 => {
                    let op = *self.pick(&["=", "<>", "<", "<=", ">", ">="]);
                    format!("{} {op} {}", self.operand(ph), self.operand(ph))
                }
                2 => format!(
                    "{} BETWEEN {} AND {}",
                    self.operand(ph),
                    self.operand(ph),
                    self.operand(ph)
                ),
                3 => {
                    let n = self.rng.random_range(1..4);
                    let list: Vec<String> = (0..n).map(|_| self.operand(ph)).collect();
                    format!("{} IN ({})", self.operand(ph), list.join(", "))
                }
                4 => format!("attribute_exists({})", self.path(ph)),
                5 => format!("attribute_not_exists({})", self.path(ph)),
                6 => format!("attribute_type({}, {})", self.path(ph), ph.value(self)),
                7 => format!("begins_with({}, {})", self.operand(ph), self.operand(ph)),
                _ => format!("contains({}, {})", self.operand(ph), self.operand(ph)),
            }
        } else {
            match self.rng.random_range(0..4) {
                0 => format!(
                    "{} AND {}",
                    self.condition(ph, depth - 1),
                    self.condition(ph, depth - 1)
                ),
                1 => format!(
                    "{} OR {}",
                    self.condition(ph, depth - 1),
                    self.condition(ph, depth - 1)
                ),
                2 => format!("NOT {}", self.condition(ph, depth - 1)),
                _ => format!("({})", self.condition(ph, depth - 1)),
            }
        };
        self.garble(c)
    }

    /// A key condition: the hash key equal to a value, and perhaps a range-key condition.
    /// Its values are of the key attributes' types (so the query runs), now and then not.
    fn key_condition(
        &mut self,
        ph: &mut Placeholders,
        t: Table,
        hash: &str,
        range: Option<&str>,
    ) -> String {
        let mut typed = |g: &mut Gen, attr: &str| {
            let v = if g.bad(0.03) {
                g.value(0)
            } else {
                g.key_value(key_type(t, attr))
            };
            ph.typed(v)
        };
        let mut c = format!("{hash} = {}", typed(self, hash));
        if let Some(r) = range {
            if self.chance(0.6) {
                let rc = match self.rng.random_range(0..3) {
                    0 => {
                        let op = *self.pick(&["=", "<", "<=", ">", ">="]);
                        format!("{r} {op} {}", typed(self, r))
                    }
                    1 => format!("{r} BETWEEN {} AND {}", typed(self, r), typed(self, r)),
                    _ => format!("begins_with({r}, {})", typed(self, r)),
                };
                c = format!("{c} AND {rc}");
            }
        }
        self.garble(c)
    }

    /// An update expression: SET, REMOVE, ADD and DELETE clauses, sometimes repeated.
    pub fn update(&mut self, ph: &mut Placeholders) -> String {
        let mut clauses = Vec::new();
        // Each of SET, REMOVE, ADD and DELETE at most once (a second is refused).
        let mut kinds = vec![0, 1, 2, 3];
        for _ in 0..self.rng.random_range(1..4) {
            let kind = if self.bad(0.1) {
                self.rng.random_range(0..4)
            } else if kinds.is_empty() {
                break;
            } else {
                kinds.remove(self.rng.random_range(0..kinds.len()))
            };
            let clause = match kind {
                0 => {
                    let n = self.rng.random_range(1..3);
                    let sets: Vec<String> = (0..n)
                        .map(|_| {
                            let rhs = match self.rng.random_range(0..5) {
                                0 => format!("{} + {}", self.path(ph), self.number_operand(ph)),
                                1 => format!(
                                    "{} - {}",
                                    self.number_operand(ph),
                                    self.update_operand(ph)
                                ),
                                2 => format!(
                                    "if_not_exists({}, {})",
                                    self.path(ph),
                                    self.update_operand(ph)
                                ),
                                3 => {
                                    let l = json!({"L": [self.value(1)]});
                                    format!("list_append({}, {})", self.path(ph), ph.typed(l))
                                }
                                _ => self.update_operand(ph),
                            };
                            format!("{} = {rhs}", self.target(ph))
                        })
                        .collect();
                    format!("SET {}", sets.join(", "))
                }
                1 => format!("REMOVE {}", self.target(ph)),
                2 => {
                    let v = match self.rng.random_range(0..3) {
                        0 => json!({"N": self.rng.random_range(-3..4).to_string()}),
                        1 => json!({"SS": [self.string()]}),
                        _ => self.value(1),
                    };
                    format!("ADD {} {}", self.target(ph), ph.typed(v))
                }
                _ => {
                    let v = if self.chance(0.7) {
                        json!({"SS": [self.string()]})
                    } else {
                        self.value(1)
                    };
                    format!("DELETE {} {}", self.target(ph), ph.typed(v))
                }
            };
            clauses.push(clause);
        }
        let u = clauses.join(" ");
        self.garble(u)
    }

    fn projection(&mut self, ph: &mut Placeholders) -> String {
        let n = self.rng.random_range(1..4);
        let p: Vec<String> = (0..n).map(|_| self.path(ph)).collect();
        let p = p.join(", ");
        self.garble(p)
    }

    /// Now and then, an expression with a character dropped, doubled or replaced.
    fn garble(&mut self, s: String) -> String {
        if !self.bad(0.03) || s.is_empty() {
            return s;
        }
        let mut chars: Vec<char> = s.chars().collect();
        let i = self.rng.random_range(0..chars.len());
        match self.rng.random_range(0..3) {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, chars[i]),
            _ => {
                chars[i] = *self.pick(&[
                    '(', ')', ',', '.', '[', ']', ':', '#', ' ', '=', '<', 'é', '\0',
                ])
            }
        }
        chars.into_iter().collect()
    }

    /// One request: an operation and its body.
    pub fn request(&mut self) -> (String, Value) {
        self.clean = self.chance(0.6);
        let op = *self.pick(OPERATIONS);
        let body = self.body(op);
        (op.to_string(), body)
    }

    fn body(&mut self, op: &str) -> Value {
        let t = self.table();
        let mut ph = Placeholders::default();
        let mut b = Map::new();
        b.insert("TableName".into(), json!(t.0));
        match op {
            "PutItem" => {
                b.insert("Item".into(), self.item(t));
                self.write_options(&mut b, &mut ph);
            }
            "GetItem" => {
                b.insert("Key".into(), self.key(t));
                self.read_options(&mut b, &mut ph);
            }
            "DeleteItem" => {
                b.insert("Key".into(), self.key(t));
                self.write_options(&mut b, &mut ph);
            }
            "UpdateItem" => {
                b.insert("Key".into(), self.key(t));
                if self.chance(0.9) {
                    b.insert("UpdateExpression".into(), json!(self.update(&mut ph)));
                } else {
                    b.insert(
                        "AttributeUpdates".into(),
                        json!({ self.name(): {"Action": self.pick(&["PUT", "ADD", "DELETE", "X"]).to_string(),
                                              "Value": self.value(1)} }),
                    );
                }
                self.write_options(&mut b, &mut ph);
                if self.chance(0.5) {
                    b.insert(
                        "ReturnValues".into(),
                        json!(self.pick(&[
                            "NONE",
                            "ALL_OLD",
                            "UPDATED_OLD",
                            "ALL_NEW",
                            "UPDATED_NEW"
                        ])),
                    );
                }
            }
            "Query" => {
                let (index, hash, range) = self.index_keys(t);
                if let Some(i) = index {
                    b.insert("IndexName".into(), json!(i));
                }
                if self.chance(0.9) {
                    b.insert(
                        "KeyConditionExpression".into(),
                        json!(self.key_condition(&mut ph, t, hash, range)),
                    );
                } else {
                    b.insert(
                        "KeyConditions".into(),
                        json!({ hash: {"ComparisonOperator": "EQ", "AttributeValueList": [self.value(0)]} }),
                    );
                }
                self.page_options(&mut b, &mut ph);
                if self.chance(0.3) {
                    b.insert("ScanIndexForward".into(), json!(self.chance(0.5)));
                }
            }
            "Scan" => {
                if self.chance(0.3) {
                    let (index, _, _) = self.index_keys(t);
                    if let Some(i) = index {
                        b.insert("IndexName".into(), json!(i));
                    }
                }
                if self.chance(0.3) {
                    let total = self.pick_or(&[1i64, 2, 4, 1_000_000, 0, -1], &[1, 2, 4]);
                    b.insert("TotalSegments".into(), json!(total));
                    let segment = if self.clean {
                        self.rng.random_range(0..total)
                    } else {
                        self.rng.random_range(-1..5)
                    };
                    b.insert("Segment".into(), json!(segment));
                }
                self.page_options(&mut b, &mut ph);
            }
            "BatchGetItem" => {
                b.remove("TableName");
                let n = self.pick_or(&[0usize, 1, 2, 5, 101], &[1, 2, 5]);
                let keys: Vec<Value> = (0..n).map(|_| self.key(t)).collect();
                let mut r = Map::new();
                r.insert("Keys".into(), json!(keys));
                if self.chance(0.3) {
                    r.insert(
                        "ProjectionExpression".into(),
                        json!(self.projection(&mut ph)),
                    );
                    ph.put_into(&mut r, self);
                }
                b.insert("RequestItems".into(), json!({ t.0: r }));
            }
            "BatchWriteItem" => {
                b.remove("TableName");
                let n = self.pick_or(&[0usize, 1, 3, 25, 26], &[1, 3, 25]);
                let writes: Vec<Value> = (0..n)
                    .map(|_| {
                        if self.chance(0.6) {
                            json!({"PutRequest": {"Item": self.item(t)}})
                        } else {
                            json!({"DeleteRequest": {"Key": self.key(t)}})
                        }
                    })
                    .collect();
                b.insert("RequestItems".into(), json!({ t.0: writes }));
            }
            "TransactWriteItems" => {
                b.remove("TableName");
                let n = self.pick_or(&[0usize, 1, 2, 2, 3, 4, 101], &[1, 2, 3, 4]);
                let items: Vec<Value> = (0..n).map(|_| self.transact_write()).collect();
                b.insert("TransactItems".into(), json!(items));
                if self.chance(0.3) {
                    b.insert(
                        "ClientRequestToken".into(),
                        json!(self.pick(&["t1", "t2", ""]).to_string()),
                    );
                }
            }
            "TransactGetItems" => {
                b.remove("TableName");
                let n = self.pick_or(&[0usize, 1, 2, 4, 101], &[1, 2, 4]);
                let items: Vec<Value> = (0..n)
                    .map(|_| {
                        let t = self.table();
                        json!({"Get": {"TableName": t.0, "Key": self.key(t)}})
                    })
                    .collect();
                b.insert("TransactItems".into(), json!(items));
            }
            "ExecuteStatement" => {
                b.remove("TableName");
                self.statement(&mut b, None);
            }
            "BatchExecuteStatement" | "ExecuteTransaction" => {
                b.remove("TableName");
                let n = self.pick_or(&[0usize, 1, 2, 2, 3, 3, 4, 26], &[1, 2, 3, 4]);
                // A transaction is all reads or all writes (now and then both, refused).
                let reads = self.chance(0.5);
                let mixed = self.bad(0.05);
                let list: Vec<Value> = (0..n)
                    .map(|_| {
                        let mut s = Map::new();
                        let read = if mixed { self.chance(0.5) } else { reads };
                        self.statement(&mut s, Some(read));
                        Value::Object(s)
                    })
                    .collect();
                let key = if op == "ExecuteTransaction" {
                    "TransactStatements"
                } else {
                    "Statements"
                };
                b.insert(key.into(), json!(list));
            }
            "ListTables" => {
                b.remove("TableName");
                if self.chance(0.5) {
                    let limit = if self.clean {
                        self.rng.random_range(1..100)
                    } else {
                        self.rng.random_range(-1..120)
                    };
                    b.insert("Limit".into(), json!(limit));
                }
                if self.chance(0.3) {
                    b.insert("ExclusiveStartTableName".into(), json!(self.table().0));
                }
            }
            "UpdateTable" => {
                if self.chance(0.5) {
                    b.insert(
                        "StreamSpecification".into(),
                        json!({"StreamEnabled": self.chance(0.5), "StreamViewType": "KEYS_ONLY"}),
                    );
                } else {
                    b.insert(
                        "ProvisionedThroughput".into(),
                        json!({"ReadCapacityUnits": self.rng.random_range(0..3), "WriteCapacityUnits": 1}),
                    );
                }
            }
            "CreateTable" => {
                b.insert(
                    "TableName".into(),
                    json!(format!("tbl{}", self.rng.random_range(0..4))),
                );
                let kt = self.pick_or(&["S", "N", "B", "BOOL"], &["S", "N", "B"]);
                b.insert(
                    "AttributeDefinitions".into(),
                    json!([{"AttributeName": "id", "AttributeType": kt}]),
                );
                b.insert(
                    "KeySchema".into(),
                    json!([{"AttributeName": "id", "KeyType": "HASH"}]),
                );
                b.insert("BillingMode".into(), json!("PAY_PER_REQUEST"));
            }
            "UpdateTimeToLive" => {
                b.insert(
                    "TimeToLiveSpecification".into(),
                    json!({"AttributeName": self.name(), "Enabled": self.chance(0.5)}),
                );
            }
            "TagResource" => {
                b.remove("TableName");
                b.insert(
                    "ResourceArn".into(),
                    json!(format!(
                        "arn:aws:dynamodb:us-east-1:000000000000:table/{}",
                        t.0
                    )),
                );
                b.insert(
                    "Tags".into(),
                    json!([{"Key": self.string(), "Value": self.string()}]),
                );
            }
            "ListTagsOfResource" => {
                b.remove("TableName");
                b.insert(
                    "ResourceArn".into(),
                    json!(self
                        .pick(&[
                            "arn:aws:dynamodb:us-east-1:000000000000:table/hash_s",
                            "arn",
                            ""
                        ])
                        .to_string()),
                );
            }
            "DescribeLimits" | "DescribeEndpoints" => {
                b.remove("TableName");
            }
            _ => {}
        }
        if self.chance(0.2) {
            b.insert(
                "ReturnConsumedCapacity".into(),
                json!(self.pick_or(
                    &["TOTAL", "INDEXES", "NONE", "SOME"],
                    &["TOTAL", "INDEXES", "NONE"]
                )),
            );
        }
        Value::Object(b)
    }

    /// An index of the table, if it has one and the coin says so, with its key attributes.
    fn index_keys(
        &mut self,
        t: Table,
    ) -> (Option<&'static str>, &'static str, Option<&'static str>) {
        match (t.0, self.rng.random_range(0..4)) {
            ("range_n", 0) => (Some("lsi"), "pk", Some("a")),
            ("range_n", 1) => (Some("gsi"), "b", Some("sk")),
            ("bin", 0) => (Some("by_c"), "c", None),
            ("hash_s", 0) => (Some("missing"), "pk", None),
            _ => (None, t.1, t.3.map(|r| r.0)),
        }
    }

    fn write_options(&mut self, b: &mut Map<String, Value>, ph: &mut Placeholders) {
        if self.chance(0.4) {
            b.insert("ConditionExpression".into(), json!(self.condition(ph, 2)));
        } else if self.chance(0.1) && (!b.contains_key("UpdateExpression") || self.bad(0.5)) {
            b.insert(
                "Expected".into(),
                json!({ self.name(): {"Exists": self.chance(0.5), "Value": self.value(0)} }),
            );
        }
        if self.chance(0.3) {
            b.insert(
                "ReturnValues".into(),
                json!(self.pick(&["NONE", "ALL_OLD", "ALL_OLD", "ALL_NEW"])),
            );
        }
        if self.chance(0.2) {
            b.insert(
                "ReturnValuesOnConditionCheckFailure".into(),
                json!("ALL_OLD"),
            );
        }
        if self.chance(0.1) {
            b.insert("ReturnItemCollectionMetrics".into(), json!("SIZE"));
        }
        ph.put_into(b, self);
    }

    fn read_options(&mut self, b: &mut Map<String, Value>, ph: &mut Placeholders) {
        if self.chance(0.4) {
            b.insert("ProjectionExpression".into(), json!(self.projection(ph)));
        } else if self.chance(0.1) {
            b.insert("AttributesToGet".into(), json!([self.name(), self.name()]));
        }
        if self.chance(0.3) {
            b.insert("ConsistentRead".into(), json!(self.chance(0.5)));
        }
        ph.put_into(b, self);
    }

    fn page_options(&mut self, b: &mut Map<String, Value>, ph: &mut Placeholders) {
        if self.chance(0.4) {
            b.insert("FilterExpression".into(), json!(self.condition(ph, 2)));
        }
        if self.chance(0.3) {
            b.insert(
                "Limit".into(),
                json!(self.pick_or(&[0i64, 1, 2, 10, -5, 1 << 40], &[1, 2, 10])),
            );
        }
        if self.chance(0.2) {
            let all = [
                "COUNT",
                "ALL_ATTRIBUTES",
                "SPECIFIC_ATTRIBUTES",
                "ALL_PROJECTED_ATTRIBUTES",
                "X",
            ];
            let s = self.pick_or(&all, &all[..2]);
            b.insert("Select".into(), json!(s));
        }
        if self.chance(0.2) {
            let t = *self.pick(&TABLES);
            b.insert("ExclusiveStartKey".into(), self.key(t));
        }
        self.read_options(b, ph);
    }

    fn transact_write(&mut self) -> Value {
        let t = self.table();
        let mut ph = Placeholders::default();
        let mut m = Map::new();
        m.insert("TableName".into(), json!(t.0));
        let kind = match self.rng.random_range(0..4) {
            0 => {
                m.insert("Item".into(), self.item(t));
                "Put"
            }
            1 => {
                m.insert("Key".into(), self.key(t));
                m.insert("UpdateExpression".into(), json!(self.update(&mut ph)));
                "Update"
            }
            2 => {
                m.insert("Key".into(), self.key(t));
                "Delete"
            }
            _ => {
                m.insert("Key".into(), self.key(t));
                m.insert(
                    "ConditionExpression".into(),
                    json!(self.condition(&mut ph, 1)),
                );
                "ConditionCheck"
            }
        };
        if kind != "ConditionCheck" && self.chance(0.3) {
            m.insert(
                "ConditionExpression".into(),
                json!(self.condition(&mut ph, 1)),
            );
        }
        ph.put_into(&mut m, self);
        json!({ kind: m })
    }

    /// A PartiQL statement on one of the tables, with `?` parameters.
    fn statement(&mut self, b: &mut Map<String, Value>, read: Option<bool>) {
        let t = self.table();
        let key = self.key(t);
        let mut params = Vec::new();
        let key_text = |params: &mut Vec<Value>| {
            key.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    params.push(v.clone());
                    format!("\"{k}\" = ?")
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let kind = match read {
            Some(true) => 0,
            Some(false) => self.rng.random_range(2..5),
            None => self.rng.random_range(0..5),
        };
        let s = match kind {
            0 => format!("SELECT * FROM \"{}\" WHERE {}", t.0, key_text(&mut params)),
            1 => format!("SELECT a, b.c[0], lst FROM \"{}\"", t.0),
            2 => {
                params.push(json!({"M": self.item(t)}));
                format!("INSERT INTO \"{}\" VALUE ?", t.0)
            }
            3 => {
                params.push(self.value(1));
                let w = key_text(&mut params);
                format!("UPDATE \"{}\" SET a = ? WHERE {w}", t.0)
            }
            _ => format!("DELETE FROM \"{}\" WHERE {}", t.0, key_text(&mut params)),
        };
        let s = if self.chance(0.2) {
            self.partiql_soup(t.0, &mut params)
        } else {
            self.garble(s)
        };
        b.insert("Statement".into(), json!(s));
        if !params.is_empty() && !self.bad(0.05) {
            b.insert("Parameters".into(), json!(params));
        }
    }
}

impl Gen {
    /// PartiQL's words in random order: statements the parser must refuse with a message,
    /// and now and then one it accepts that no template above writes.
    fn partiql_soup(&mut self, table: &str, params: &mut Vec<Value>) -> String {
        const WORDS: &[&str] = &[
            "SELECT",
            "*",
            "FROM",
            "WHERE",
            "INSERT",
            "INTO",
            "VALUE",
            "UPDATE",
            "SET",
            "REMOVE",
            "DELETE",
            "AND",
            "OR",
            "NOT",
            "IN",
            "BETWEEN",
            "IS",
            "MISSING",
            "NULL",
            "EXISTS",
            "begins_with(",
            "contains(",
            "size(",
            "attribute_type(",
            "?",
            "a",
            "b.c",
            "lst[0]",
            "'s'",
            "1",
            "-2.5e3",
            "[",
            "]",
            "{",
            "}",
            "<<",
            ">>",
            "(",
            ")",
            ".",
            ",",
            ":",
            "=",
            "<>",
            "<",
            ">=",
            "RETURNING",
            "ALL",
            "OLD",
            "NEW",
            "MODIFIED",
            "ORDER",
            "BY",
            "DESC",
            "ASC",
            "LIMIT",
            "\"pk\"",
            "\"sk\"",
            "'pk'",
            "\"\"",
            "'",
            "\"",
            "--",
            "/*",
        ];
        let n = self.rng.random_range(1..14);
        let mut out = Vec::new();
        for i in 0..n {
            let w = if i == 3 {
                format!("\"{table}\"")
            } else {
                self.pick(WORDS).to_string()
            };
            if w == "?" {
                params.push(self.value(1));
            }
            out.push(w);
        }
        out.join(" ")
    }
}

/// The `#n` and `:v` placeholders an expression used, to be defined in the request —
/// mostly all of them, now and then one missing or one unused.
#[derive(Default)]
pub struct Placeholders {
    names: Vec<(String, String)>,
    values: Vec<String>,
    typed: Vec<Value>,
}

impl Placeholders {
    /// A placeholder for a value chosen by the caller (`:k0`, `:k1`, …).
    fn typed(&mut self, v: Value) -> String {
        self.typed.push(v);
        format!(":k{}", self.typed.len() - 1)
    }

    fn name(&mut self, g: &mut Gen) -> String {
        let i = g.rng.random_range(0..3);
        let p = format!("#n{i}");
        if !self.names.iter().any(|(n, _)| *n == p) {
            self.names.push((p.clone(), g.name()));
        }
        p
    }

    fn value(&mut self, g: &mut Gen) -> String {
        let p = format!(":v{}", g.rng.random_range(0..4));
        if !self.values.contains(&p) {
            self.values.push(p.clone());
        }
        p
    }

    /// Define the placeholders used so far in `b` (now and then one too few, or one unused),
    /// and start afresh for the next expression's request.
    fn put_into(&mut self, b: &mut Map<String, Value>, g: &mut Gen) {
        let mut names: Map<String, Value> = Map::new();
        for (p, n) in &self.names {
            if !g.bad(0.03) {
                names.insert(p.clone(), json!(n));
            }
        }
        let mut values: Map<String, Value> = Map::new();
        for p in &self.values {
            if !g.bad(0.03) {
                values.insert(p.clone(), g.value(2));
            }
        }
        for (i, v) in self.typed.drain(..).enumerate() {
            values.insert(format!(":k{i}"), v);
        }
        if g.bad(0.03) {
            values.insert(":unused".into(), json!({"S": "u"}));
        }
        if !names.is_empty() {
            b.insert("ExpressionAttributeNames".into(), Value::Object(names));
        }
        if !values.is_empty() {
            b.insert("ExpressionAttributeValues".into(), Value::Object(values));
        }
        self.names.clear();
        self.values.clear();
    }
}

/// Replace one node of the body, at random depth, with JSON of another kind (or drop a member,
/// or add one nobody asked for): what the shape checks exist for.
pub fn mutate(g: &mut Gen, v: &mut Value) {
    let junk = |g: &mut Gen| -> Value {
        match g.rng.random_range(0..8) {
            0 => json!(null),
            1 => json!(true),
            2 => json!(-1),
            3 => json!(1.5e300),
            4 => json!("x"),
            5 => json!([]),
            6 => json!({}),
            _ => json!([{"S": "a"}]),
        }
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[g.rng.random_range(0..keys.len())];
            match g.rng.random_range(0..5) {
                0 => {
                    m.remove(k);
                }
                1 => {
                    m.insert(k.clone(), junk(g));
                }
                2 => {
                    m.insert("Unexpected".into(), junk(g));
                }
                _ => {
                    if let Some(child) = m.get_mut(k) {
                        mutate(g, child);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = g.rng.random_range(0..a.len());
            if g.rng.random_bool(0.4) {
                a[i] = junk(g);
            } else {
                mutate(g, &mut a[i]);
            }
        }
        _ => *v = junk(g),
    }
}

/// A seeded generator (ChaCha8, as the simulator's streams).
pub fn generator(seed: u64) -> Gen {
    use rand::SeedableRng;
    Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        clean: false,
    }
}
