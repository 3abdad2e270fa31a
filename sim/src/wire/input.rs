//! A request's input: the query string and the JSON body, with the checks the operations
//! make on their members.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::pages::parse_page_size;
use super::{decode_token, ApiError, ApiResult, ErrorCode, PageRequest};

/// One request, decoded: query pairs in order (keys may repeat) and the JSON body.
#[derive(Debug, Clone)]
pub struct Input {
    pub query: Vec<(String, String)>,
    pub body: Map<String, Value>,
    /// The error code this operation models for bad parameters.
    pub invalid: ErrorCode,
}

pub fn decode_component(s: &str) -> Option<String> {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

pub fn parse_query(raw: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (decode_component(k), decode_component(v)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(format!("query parameter '{pair}' is not valid UTF-8")),
            }
        })
        .collect()
}

impl Input {
    /// Decodes the query string and the body of a call whose operation answers bad parameters
    /// with `invalid`.
    pub fn decode(invalid: ErrorCode, query: Option<&str>, body: &[u8]) -> ApiResult<Input> {
        let bad = |m| ApiError::new(invalid, m);
        Ok(Input {
            query: parse_query(query).map_err(bad)?,
            body: parse_body(body).map_err(bad)?,
            invalid,
        })
    }

    fn bad(&self, message: String) -> ApiError {
        ApiError::new(self.invalid, message)
    }

    pub fn query_all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn query_one(&self, key: &str) -> ApiResult<Option<&str>> {
        match self.query_all(key).as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(self.bad(format!("query parameter '{key}' is given more than once"))),
        }
    }

    pub fn query_required(&self, key: &str, min: usize, max: usize) -> ApiResult<String> {
        match self.query_one(key)? {
            Some(v) => self.check_len(key, v, min, max).map(|_| v.to_string()),
            None => Err(self.bad(format!("required query parameter '{key}' is missing"))),
        }
    }

    pub fn query_enum(&self, key: &str, allowed: &[&str]) -> ApiResult<Vec<String>> {
        self.query_all(key)
            .into_iter()
            .map(|v| {
                if allowed.contains(&v) {
                    Ok(v.to_string())
                } else {
                    Err(self.bad(format!(
                        "'{v}' is not a valid value for '{key}'; expected one of {}",
                        allowed.join(", ")
                    )))
                }
            })
            .collect()
    }

    pub fn check_len(&self, member: &str, v: &str, min: usize, max: usize) -> ApiResult<()> {
        let n = v.chars().count();
        if n < min || n > max {
            Err(self.bad(format!(
                "member '{member}' must be {min} to {max} characters long (got {n})"
            )))
        } else {
            Ok(())
        }
    }

    /// An optional string member of the body, with its length checked.
    pub fn str_opt(&self, member: &str, min: usize, max: usize) -> ApiResult<Option<String>> {
        match self.body.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => self.check_len(member, s, min, max).map(|_| Some(s.clone())),
            Some(_) => Err(self.bad(format!("member '{member}' must be a string"))),
        }
    }

    pub fn str_req(&self, member: &str, min: usize, max: usize) -> ApiResult<String> {
        self.str_opt(member, min, max)?
            .ok_or_else(|| self.bad(format!("required member '{member}' is missing")))
    }

    pub fn int_opt(&self, member: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        match self.body.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(self.bad(format!(
                    "member '{member}' must be an integer from {min} to {max}"
                ))),
            },
        }
    }

    pub fn str_list(&self, member: &str, max_items: usize) -> ApiResult<Vec<String>> {
        match self.body.get(member) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() <= max_items => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.bad(format!("member '{member}' must hold strings")))
                })
                .collect(),
            Some(Value::Array(_)) => Err(self.bad(format!(
                "member '{member}' holds more than {max_items} items"
            ))),
            Some(_) => Err(self.bad(format!("member '{member}' must be a list"))),
        }
    }

    pub fn object_opt(&self, member: &str) -> ApiResult<Option<&Map<String, Value>>> {
        match self.body.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.bad(format!("member '{member}' must be a structure"))),
        }
    }

    /// `maxResults`/`nextToken` from the query string.
    pub fn page_query(&self, max: usize, default: usize) -> ApiResult<PageRequest> {
        let size = match self.query_one("maxResults")? {
            None => default.min(max),
            Some(v) => parse_page_size(v, max).map_err(|m| self.bad(m.to_string()))?,
        };
        let after = match self.query_one("nextToken")? {
            None | Some("") => None,
            Some(t) => {
                Some(decode_token(t).ok_or_else(|| self.bad("nextToken is not valid".into()))?)
            }
        };
        Ok(PageRequest { size, after })
    }

    /// `MaxResults`/`NextToken` from the JSON body (ListPhoneNumbersV2).
    pub fn page_body(&self, max: usize, default: usize) -> ApiResult<PageRequest> {
        let size = self
            .int_opt("MaxResults", 1, max as i64)?
            .map_or(default.min(max), |n| n as usize);
        let after = match self.str_opt("NextToken", 1, 100_000)? {
            None => None,
            Some(t) => {
                Some(decode_token(&t).ok_or_else(|| self.bad("NextToken is not valid".into()))?)
            }
        };
        Ok(PageRequest { size, after })
    }
}

/// The JSON body: an object, or nothing.
fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the request body must be a JSON object".into()),
        Err(e) => Err(format!("the request body is not valid JSON: {e}")),
    }
}
