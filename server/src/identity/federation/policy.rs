//! Metadata policies (OpenID Federation 1.0 §6.1): the operators `value`, `add`, `default`,
//! `one_of`, `subset_of`, `superset_of` and `essential`, merged down a trust chain and applied to
//! the leaf's metadata. Operators not understood are ignored, as the specification asks of
//! operators not listed in `metadata_policy_crit` (none of ours is).

use serde_json::{Map, Value};

/// A policy for one entity type: parameter → operator → operand.
pub type Policy = Map<String, Value>;

/// Merges a superior's policy with its subordinate's (the superior's wins where they conflict,
/// which is an error for `value` and `default`).
pub fn merge(superior: &Policy, subordinate: &Policy) -> Result<Policy, String> {
    let mut merged = superior.clone();
    for (parameter, operators) in subordinate {
        let operators = operators
            .as_object()
            .ok_or_else(|| format!("policy of `{parameter}` is not an object"))?;
        let Some(existing) = merged.get_mut(parameter).and_then(Value::as_object_mut) else {
            merged.insert(parameter.clone(), Value::Object(operators.clone()));
            continue;
        };
        for (operator, operand) in operators {
            let Some(current) = existing.get(operator) else {
                existing.insert(operator.clone(), operand.clone());
                continue;
            };
            let combined = match operator.as_str() {
                "value" | "default" => {
                    if current != operand {
                        return Err(format!("`{parameter}`: conflicting `{operator}`"));
                    }
                    current.clone()
                }
                "add" | "superset_of" => Value::Array(union(array(current)?, array(operand)?)),
                "one_of" | "subset_of" => {
                    let both = intersection(array(current)?, array(operand)?);
                    if operator == "one_of" && both.is_empty() {
                        return Err(format!("`{parameter}`: `one_of` sets do not intersect"));
                    }
                    Value::Array(both)
                }
                "essential" => {
                    Value::Bool(current.as_bool() == Some(true) || operand.as_bool() == Some(true))
                }
                _ => current.clone(),
            };
            existing.insert(operator.clone(), combined);
        }
    }
    Ok(merged)
}

/// Applies a (merged) policy to metadata, in the order the specification gives.
pub fn apply(policy: &Policy, metadata: &mut Map<String, Value>) -> Result<(), String> {
    for (parameter, operators) in policy {
        let operators = operators
            .as_object()
            .ok_or_else(|| format!("policy of `{parameter}` is not an object"))?;
        if let Some(value) = operators.get("value") {
            if value.is_null() {
                metadata.remove(parameter);
            } else {
                metadata.insert(parameter.clone(), value.clone());
            }
        }
        if let Some(add) = operators.get("add") {
            let current = match metadata.get(parameter) {
                Some(current) => array(current)?,
                None => &[][..],
            };
            let added = union(current, array(add)?);
            metadata.insert(parameter.clone(), Value::Array(added));
        }
        if let Some(default) = operators.get("default") {
            metadata
                .entry(parameter.clone())
                .or_insert_with(|| default.clone());
        }
        if let (Some(one_of), Some(current)) = (operators.get("one_of"), metadata.get(parameter))
            && !array(one_of)?.contains(current)
        {
            return Err(format!("`{parameter}` = {current} is not one of {one_of}"));
        }
        if let (Some(subset_of), Some(current)) = (operators.get("subset_of"), metadata.get(parameter)) {
            let kept = intersection(array(current)?, array(subset_of)?);
            metadata.insert(parameter.clone(), Value::Array(kept));
        }
        if let (Some(superset_of), Some(current)) = (operators.get("superset_of"), metadata.get(parameter)) {
            let current = array(current)?;
            if let Some(missing) = array(superset_of)?.iter().find(|value| !current.contains(value)) {
                return Err(format!(
                    "`{parameter}` lacks {missing}, required by `superset_of`"
                ));
            }
        }
        if operators.get("essential") == Some(&Value::Bool(true)) && !metadata.contains_key(parameter) {
            return Err(format!("`{parameter}` is essential and missing"));
        }
    }
    Ok(())
}

fn array(value: &Value) -> Result<&[Value], String> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{value} is not an array"))
}

fn union(a: &[Value], b: &[Value]) -> Vec<Value> {
    let mut all = a.to_vec();
    all.extend(b.iter().filter(|value| !a.contains(value)).cloned());
    all
}

fn intersection(a: &[Value], b: &[Value]) -> Vec<Value> {
    a.iter().filter(|value| b.contains(value)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn every_operator_applies() {
        let policy = object(json!({
            "client_name": {"value": "Fixed"},
            "logo_uri": {"value": null},
            "contacts": {"add": ["ta@example"]},
            "subject_type": {"default": "pairwise"},
            "token_endpoint_auth_method": {"one_of": ["private_key_jwt"]},
            "grant_types": {"subset_of": ["authorization_code", "refresh_token"]},
            "response_types": {"superset_of": ["code"]},
            "jwks": {"essential": true},
        }));
        let mut metadata = object(json!({
            "client_name": "Mine", "logo_uri": "https://x/logo.svg", "contacts": ["me@example"],
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["authorization_code", "implicit"], "response_types": ["code"],
            "jwks": {"keys": []},
        }));
        apply(&policy, &mut metadata).expect("conforms");
        assert_eq!(
            Value::Object(metadata),
            json!({
                "client_name": "Fixed", "contacts": ["me@example", "ta@example"],
                "subject_type": "pairwise", "token_endpoint_auth_method": "private_key_jwt",
                "grant_types": ["authorization_code"], "response_types": ["code"],
                "jwks": {"keys": []},
            })
        );
    }

    #[test]
    fn violations_are_refused() {
        for (policy, metadata) in [
            (json!({"a": {"one_of": ["x"]}}), json!({"a": "y"})),
            (json!({"a": {"superset_of": ["x", "y"]}}), json!({"a": ["x"]})),
            (json!({"a": {"essential": true}}), json!({})),
            (json!({"a": {"add": ["x"]}}), json!({"a": "not an array"})),
        ] {
            let mut metadata = object(metadata);
            assert!(apply(&object(policy.clone()), &mut metadata).is_err(), "{policy}");
        }
    }

    #[test]
    fn merging_combines_and_refuses_conflicts() {
        let superior = object(json!({
            "a": {"one_of": ["x", "y"], "add": ["1"], "essential": false},
            "b": {"value": "v"},
            "c": {"subset_of": ["p", "q"]},
        }));
        let subordinate = object(json!({
            "a": {"one_of": ["y", "z"], "add": ["2"], "essential": true},
            "c": {"subset_of": ["q", "r"]},
            "d": {"default": "dd"},
        }));
        assert_eq!(
            Value::Object(merge(&superior, &subordinate).expect("merges")),
            json!({
                "a": {"one_of": ["y"], "add": ["1", "2"], "essential": true},
                "b": {"value": "v"},
                "c": {"subset_of": ["q"]},
                "d": {"default": "dd"},
            })
        );
        for subordinate in [json!({"b": {"value": "other"}}), json!({"a": {"one_of": ["z"]}})] {
            assert!(
                merge(&superior, &object(subordinate.clone())).is_err(),
                "{subordinate}"
            );
        }
    }
}
