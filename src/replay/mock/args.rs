//! Reading a Web API call's arguments the ways Slack accepts them: a form body (nested values as
//! JSON text), a JSON body, or the query string; the token from `Authorization: Bearer` or a
//! `token` argument.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// A call's arguments.
#[derive(Debug, Default)]
pub(super) struct Args {
    /// Query-string and form fields, in order.
    form: Vec<(String, String)>,
    /// A JSON body's members.
    json: Map<String, Value>,
}

impl Args {
    /// Reads the arguments; the error is Slack's error code for an unreadable body.
    pub(super) fn parse(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<Args, &'static str> {
        let mut args = Args::default();
        if let Some(q) = query {
            args.form.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        if body.is_empty() {
            return Ok(args);
        }
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        match content_type.as_deref() {
            Some("application/x-www-form-urlencoded") => {
                args.form.extend(form_urlencoded::parse(body).into_owned());
                Ok(args)
            }
            Some("application/json") => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => {
                    args.json = map;
                    Ok(args)
                }
                _ => Err("invalid_json"),
            },
            Some("multipart/form-data") => Err("invalid_form_data"),
            Some(_) => Err("invalid_post_type"),
            None => Err("missing_post_type"),
        }
    }

    /// A text argument (a JSON number or boolean is given as its text).
    pub(super) fn str(&self, key: &str) -> Option<String> {
        match self.json.get(key) {
            Some(Value::String(s)) => return Some(s.clone()),
            Some(Value::Number(n)) => return Some(n.to_string()),
            Some(Value::Bool(b)) => return Some(b.to_string()),
            _ => {}
        }
        self.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// A structured argument (`view`): an object in a JSON body, or JSON text anywhere.
    /// `Err` when it is present but not JSON.
    pub(super) fn json(&self, key: &str) -> Result<Option<Value>, ()> {
        match self.json.get(key) {
            Some(Value::String(text)) => serde_json::from_str(text).map(Some).map_err(|_| ()),
            Some(value) => Ok(Some(value.clone())),
            None => match self.form.iter().find(|(k, _)| k == key) {
                Some((_, text)) => serde_json::from_str(text).map(Some).map_err(|_| ()),
                None => Ok(None),
            },
        }
    }

    /// The token: the bearer header, else a `token` argument.
    pub(super) fn token(&self, headers: &HeaderMap) -> Option<String> {
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_owned());
        bearer.or_else(|| self.str("token")).filter(|t| !t.is_empty())
    }

    /// The request as text for the record, with any `token` argument hidden.
    pub(super) fn redacted(&self) -> String {
        if !self.json.is_empty() {
            let mut json = self.json.clone();
            if json.contains_key("token") {
                json.insert("token".into(), Value::String("<redacted>".into()));
            }
            return Value::Object(json).to_string();
        }
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.form {
            out.append_pair(k, if k == "token" { "<redacted>" } else { v });
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(content_type: &str, auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_str(content_type).unwrap());
        if let Some(a) = auth {
            h.insert("authorization", HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn reads_forms_json_and_tokens_both_ways() {
        let h = headers("application/x-www-form-urlencoded; charset=utf-8", None);
        let a = Args::parse(&h, None, b"token=xoxb-1&view=%7B%22type%22%3A%22modal%22%7D&trigger_id=1.2.a").unwrap();
        assert_eq!(a.token(&h).as_deref(), Some("xoxb-1"));
        assert_eq!(a.json("view").unwrap().unwrap()["type"], "modal");
        assert_eq!(a.redacted(), "token=%3Credacted%3E&view=%7B%22type%22%3A%22modal%22%7D&trigger_id=1.2.a");

        let h = headers("application/json", Some("Bearer xoxb-2"));
        let a = Args::parse(&h, Some("x=1"), br#"{"view":{"type":"modal"},"trigger_id":"1.2.b","n":5}"#).unwrap();
        assert_eq!(a.token(&h).as_deref(), Some("xoxb-2"));
        assert_eq!(a.json("view").unwrap().unwrap()["type"], "modal");
        assert_eq!(
            (a.str("trigger_id").as_deref(), a.str("n").as_deref(), a.str("x").as_deref()),
            (Some("1.2.b"), Some("5"), Some("1"))
        );
        let a = Args::parse(&h, None, br#"{"view":"{\"type\":\"modal\"}"}"#).unwrap();
        assert_eq!(a.json("view").unwrap().unwrap()["type"], "modal", "a view may be JSON text in a JSON body");
        assert!(Args::parse(&h, None, br#"{"view":"{nope"}"#).unwrap().json("view").is_err());
    }

    #[test]
    fn unreadable_bodies_get_slacks_error_codes() {
        assert_eq!(Args::parse(&headers("application/json", None), None, b"[1]").unwrap_err(), "invalid_json");
        assert_eq!(Args::parse(&headers("text/plain", None), None, b"x").unwrap_err(), "invalid_post_type");
        assert_eq!(Args::parse(&HeaderMap::new(), None, b"x").unwrap_err(), "missing_post_type");
    }
}
