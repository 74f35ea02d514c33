//! Request messages built from the API's own descriptors
//! (`maillage_proto::FILE_DESCRIPTOR_SET`): every RPC the platform serves,
//! and a proptest strategy per request type that writes a structurally
//! valid protobuf encoding of it.
//!
//! Each field is present or not (repeated ones 0 to 3 times) with a value of
//! its wire type: numbers small, extreme or negative; enums in and out of
//! range; timestamps plausible or absurd; nested messages down to a depth,
//! then left empty. Strings lean on the field's name so that some requests
//! get past validation: ids are taken from the ids the platform holds (or
//! are fresh UUIDs, or anything), request ids are fresh UUIDs, commune codes
//! and contexts come from short lists; otherwise any text, including
//! control characters, long strings and non-ASCII.

use std::collections::HashMap;

use proptest::prelude::*;
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};

/// Nested messages deeper than this are left empty.
const MAX_DEPTH: u32 = 3;

/// One RPC of the platform.
#[derive(Debug, Clone)]
pub struct Method {
    /// `/maillage.v1.<Service>/<Method>`.
    pub path: String,
    /// The request type's full name, with its leading dot.
    pub input: String,
    /// Whether the answer is a stream (`EventLog.Subscribe`).
    pub server_streaming: bool,
}

/// The API: every message type and every method.
pub struct Api {
    messages: HashMap<String, DescriptorProto>,
    pub methods: Vec<Method>,
}

/// Values the strings of a request may take besides arbitrary text.
pub struct Pools {
    /// Ids the platform holds (entity ids and stream ids).
    pub ids: Vec<String>,
}

impl Api {
    /// Reads the descriptor set compiled into `maillage-proto`.
    pub fn load() -> Api {
        let set = FileDescriptorSet::decode(maillage_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled descriptor set decodes");
        let mut messages = HashMap::new();
        let mut methods = Vec::new();
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                collect(&format!(".{package}"), message, &mut messages);
            }
            for service in &file.service {
                for method in &service.method {
                    assert!(!method.client_streaming(), "no client streaming RPC");
                    methods.push(Method {
                        path: format!("/{package}.{}/{}", service.name(), method.name()),
                        input: method.input_type().to_owned(),
                        server_streaming: method.server_streaming(),
                    });
                }
            }
        }
        Api { messages, methods }
    }

    /// A strategy for encodings of the message type `name`.
    pub fn message(&self, name: &str, pools: &Pools) -> BoxedStrategy<Vec<u8>> {
        self.message_at(name, pools, 0)
    }

    fn message_at(&self, name: &str, pools: &Pools, depth: u32) -> BoxedStrategy<Vec<u8>> {
        if name == ".google.protobuf.Timestamp" {
            return timestamp().boxed();
        }
        let Some(descriptor) = self.messages.get(name) else {
            panic!("message type {name} is not in the descriptor set");
        };
        if depth > MAX_DEPTH {
            return Just(Vec::new()).boxed();
        }
        let fields: Vec<BoxedStrategy<Vec<u8>>> = descriptor
            .field
            .iter()
            .map(|field| self.field(field, pools, depth))
            .collect();
        fields.prop_map(|parts| parts.concat()).boxed()
    }

    /// The encoding of one field: absent, once, or (repeated) a few times.
    fn field(
        &self,
        field: &FieldDescriptorProto,
        pools: &Pools,
        depth: u32,
    ) -> BoxedStrategy<Vec<u8>> {
        let number = field.number() as u64;
        let encoded = self
            .value(field, pools, depth)
            .prop_map(move |(wire, value)| {
                let mut bytes = varint(number << 3 | wire);
                bytes.extend_from_slice(&value);
                bytes
            });
        if field.label() == Label::Repeated {
            prop::collection::vec(encoded, 0..4)
                .prop_map(|values| values.concat())
                .boxed()
        } else {
            prop::option::weighted(0.7, encoded)
                .prop_map(Option::unwrap_or_default)
                .boxed()
        }
    }

    /// A value of the field's type: (wire type, bytes after the key).
    fn value(
        &self,
        field: &FieldDescriptorProto,
        pools: &Pools,
        depth: u32,
    ) -> BoxedStrategy<(u64, Vec<u8>)> {
        match field.r#type() {
            Type::Double | Type::Fixed64 | Type::Sfixed64 => any::<[u8; 8]>()
                .prop_map(|bytes| (1, bytes.to_vec()))
                .boxed(),
            Type::Float | Type::Fixed32 | Type::Sfixed32 => any::<[u8; 4]>()
                .prop_map(|bytes| (5, bytes.to_vec()))
                .boxed(),
            Type::Bool => prop_oneof![4 => 0u64..2, 1 => any::<u64>()]
                .prop_map(|value| (0, varint(value)))
                .boxed(),
            Type::Enum => prop_oneof![6 => 0u64..12, 1 => any::<u64>()]
                .prop_map(|value| (0, varint(value)))
                .boxed(),
            Type::Int32 | Type::Int64 | Type::Uint32 | Type::Uint64 => prop_oneof![
                4 => 0u64..50,
                1 => any::<u64>(),
                1 => any::<i32>().prop_map(|value| i64::from(value) as u64),
            ]
            .prop_map(|value| (0, varint(value)))
            .boxed(),
            Type::Sint32 | Type::Sint64 => any::<i64>()
                .prop_map(|value| (0, varint(((value << 1) ^ (value >> 63)) as u64)))
                .boxed(),
            Type::String => text_for(field.name(), pools)
                .prop_map(|text| (2, delimited(text.as_bytes())))
                .boxed(),
            Type::Bytes => prop::collection::vec(any::<u8>(), 0..48)
                .prop_map(|bytes| (2, delimited(&bytes)))
                .boxed(),
            Type::Message | Type::Group => self
                .message_at(field.type_name(), pools, depth + 1)
                .prop_map(|bytes| (2, delimited(&bytes)))
                .boxed(),
        }
    }
}

/// Every message type of `message` (itself and its nested ones), by full name.
fn collect(scope: &str, message: &DescriptorProto, into: &mut HashMap<String, DescriptorProto>) {
    let name = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        collect(&name, nested, into);
    }
    into.insert(name, message.clone());
}

/// Strings for a field, by its name.
fn text_for(name: &str, pools: &Pools) -> BoxedStrategy<String> {
    let name = name.to_ascii_lowercase();
    let uuid = "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
    if name == "request_id" {
        return prop_oneof![6 => uuid.boxed(), 1 => text()].boxed();
    }
    if name.ends_with("id") || name.ends_with("ids") {
        let ids = pools.ids.clone();
        return prop_oneof![4 => prop::sample::select(ids), 1 => uuid.boxed(), 1 => text()].boxed();
    }
    if name.contains("commune") || name.contains("code") || name.contains("territory") {
        let codes = vec![
            "64102",
            "64024",
            "75056",
            "2A004",
            "97411",
            "200067106",
            "64",
            "75",
            "11",
        ];
        return prop_oneof![
            3 => prop::sample::select(codes).prop_map(str::to_owned),
            1 => text()
        ]
        .boxed();
    }
    if name.contains("context") {
        let contexts = vec!["stakeholders", "engagement", "governance", "projections"];
        return prop_oneof![
            3 => prop::sample::select(contexts).prop_map(str::to_owned),
            1 => text()
        ]
        .boxed();
    }
    text()
}

/// Any text: empty, words, any characters, lines, control characters, long.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        3 => "[a-zA-Zéèàç' -]{1,30}".boxed(),
        2 => any::<String>(),
        1 => "[\\x00-\\x1f\\n\\r\\t]{1,10}".boxed(),
        1 => prop::collection::vec(any::<char>(), 2_000..6_000)
            .prop_map(|chars| chars.into_iter().collect()),
    ]
    .boxed()
}

/// A `google.protobuf.Timestamp`: plausible (2025 to 2027), the epoch, or absurd.
fn timestamp() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            4 => 1_735_689_600i64..1_830_297_600,
            1 => Just(0i64),
            1 => any::<i64>()
        ],
        prop_oneof![3 => Just(0i32), 1 => 0i32..1_000_000_000, 1 => any::<i32>()],
    )
        .prop_map(|(seconds, nanos)| {
            let mut bytes = varint(1 << 3);
            bytes.extend(varint(seconds as u64));
            bytes.extend(varint(2 << 3));
            bytes.extend(varint(i64::from(nanos) as u64));
            bytes
        })
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(10);
    while value >= 0x80 {
        bytes.push((value as u8) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
    bytes
}

fn delimited(value: &[u8]) -> Vec<u8> {
    let mut bytes = varint(value.len() as u64);
    bytes.extend_from_slice(value);
    bytes
}
