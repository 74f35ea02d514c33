//! Projection of the engagement codebook: the codes (kind, label, theme,
//! retired) the coded findings of interviews and diagnostics are read with.

use maillage_proto::v1 as pb;

use super::Event;
use crate::model::ReadModel;

pub(super) fn code_defined(model: &mut ReadModel, _event: &Event<'_>, p: pb::CodebookCodeDefined) {
    let row = model.codes.upsert(&p.code_id);
    row.kind = p.kind;
    row.label = p.label;
    row.topic = p.topic;
}

pub(super) fn code_relabelled(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::CodebookCodeRelabelled,
) {
    model.codes.upsert(&p.code_id).label = p.label;
}

pub(super) fn code_retired(model: &mut ReadModel, _event: &Event<'_>, p: pb::CodebookCodeRetired) {
    model.codes.upsert(&p.code_id).retired = true;
}
