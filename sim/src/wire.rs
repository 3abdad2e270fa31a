//! The restJson1 wire format: errors, query strings, JSON bodies, pagination and validation.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::{Map, Value};

/// The header naming an error's code.
pub const ERROR_TYPE: &str = "x-amzn-errortype";
/// The header carrying the request ID.
pub const REQUEST_ID: &str = "x-amzn-requestid";

/// An error as Amazon Connect sends it: a status, an `x-amzn-ErrorType` and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Extra body members (`ResourceType`/`ResourceId` on `ResourceInUseException`).
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        let status = match code {
            "InvalidRequestException" | "InvalidParameterException" => 400,
            "ServiceQuotaExceededException" => 402,
            "AccessDeniedException" | "MissingAuthenticationTokenException" => 403,
            "ResourceNotFoundException"
            | "UserNotFoundException"
            | "ContactFlowNotPublishedException"
            | "UnknownOperationException" => 404,
            "ResourceConflictException"
            | "ResourceNotReadyException"
            | "ResourceInUseException"
            | "IdempotencyException"
            | "DuplicateResourceException" => 409,
            "ThrottlingException" | "LimitExceededException" => 429,
            "ServiceUnavailableException" => 503,
            _ => 500,
        };
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestException", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ResourceConflictException", message)
    }
    pub fn in_use(message: impl Into<String>, resource_type: &str, resource_id: &str) -> Self {
        let mut e = Self::new("ResourceInUseException", message);
        e.extra.insert("ResourceType".into(), resource_type.into());
        e.extra.insert("ResourceId".into(), resource_id.into());
        e
    }

    pub fn body(&self) -> Value {
        let mut body = self.extra.clone();
        body.insert("message".into(), Value::String(self.message.clone()));
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        response
            .headers_mut()
            .insert(ERROR_TYPE, HeaderValue::from_static(self.code));
        response
    }
}

/// A JSON answer with its status.
pub fn json_response(status: u16, body: &impl Serialize) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [("content-type", HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub type ApiResult<T = Value> = Result<T, ApiError>;

/// One request, decoded: query pairs in order (keys may repeat) and the JSON body.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub query: Vec<(String, String)>,
    pub body: Map<String, Value>,
    /// The error code this operation models for bad parameters.
    pub invalid: &'static str,
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
    pub fn decode(invalid: &'static str, query: Option<&str>, body: &[u8]) -> ApiResult<Input> {
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
            Some(v) => parse_page_size(v, max).map_err(|m| self.bad(m))?,
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

fn parse_page_size(v: &str, max: usize) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "maxResults must be an integer from 1 to {max} (got '{v}')"
        )),
    }
}

/// A page request: how many items, and the position key of the last item already returned.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub size: usize,
    pub after: Option<u64>,
}

const TOKEN_PREFIX: &str = "sim1.";

pub fn encode_token(position: u64) -> String {
    format!("{TOKEN_PREFIX}{:x}", position ^ 0x5eed_5eed)
}

pub fn decode_token(token: &str) -> Option<u64> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    u64::from_str_radix(hex, 16).ok().map(|v| v ^ 0x5eed_5eed)
}

/// Cuts one page from items already ordered by a position key.
pub fn paginate<'a, T: 'a>(
    items: impl IntoIterator<Item = (u64, T)>,
    page: PageRequest,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::with_capacity(page.size.min(1024));
    let mut last = None;
    let mut more = false;
    for (pos, item) in items {
        if page.after.is_some_and(|a| pos <= a) {
            continue;
        }
        if out.len() == page.size {
            more = true;
            break;
        }
        last = Some(pos);
        out.push(item);
    }
    let token = if more { last.map(encode_token) } else { None };
    (out, token)
}

/// Matches the `AwsRegion` shape: 8..31 characters, `[a-z]{2}(-[a-z]+){1,2}(-[0-9])?`.
pub fn is_region(s: &str) -> bool {
    if !(8..=31).contains(&s.len()) {
        return false;
    }
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 2 || parts[0].len() != 2 || !parts[0].bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let mut rest = &parts[1..];
    if let Some(last) = rest.last() {
        if last.len() == 1 && last.bytes().all(|b| b.is_ascii_digit()) {
            rest = &rest[..rest.len() - 1];
        }
    }
    (1..=2).contains(&rest.len())
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Matches the `DirectoryAlias` shape: `^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$`, 1..45.
pub fn is_alias(s: &str) -> bool {
    (1..=45).contains(&s.len())
        && !s.starts_with("d-")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// A lowercase UUID, as the TDG identifier shapes require.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Parses `arn:PARTITION:connect:REGION:ACCOUNT:RESOURCE/ID` into (region, account, resource, id).
pub fn split_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    if partition.is_empty() || parts.next()? != "connect" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let (resource, id) = parts.next()?.split_once('/')?;
    (!region.is_empty() && !account.is_empty() && !id.is_empty())
        .then_some((region, account, resource, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_the_aws_region_shape() {
        for ok in [
            "us-east-1",
            "eu-central-1",
            "ap-northeast-3",
            "us-gov-west-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "useast1",
            "u-east-1",
            "us-east-1-",
            "x",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn aliases_follow_the_directory_alias_shape() {
        assert!(is_alias("acme-contact"));
        assert!(!is_alias("d-acme"));
        assert!(!is_alias("-acme"));
        assert!(!is_alias("acme_contact"));
        assert!(!is_alias(&"a".repeat(46)));
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("garbage"), None);
    }

    #[test]
    fn pages_cut_after_the_last_position() {
        let items = (1..=5u64).map(|i| (i, i));
        let (first, token) = paginate(
            items.clone(),
            PageRequest {
                size: 2,
                after: None,
            },
        );
        assert_eq!(first, vec![1, 2]);
        let after = decode_token(&token.unwrap());
        let (second, _) = paginate(items.clone(), PageRequest { size: 2, after });
        assert_eq!(second, vec![3, 4]);
        let (exact, token) = paginate(
            items,
            PageRequest {
                size: 5,
                after: None,
            },
        );
        assert_eq!(exact.len(), 5);
        assert!(
            token.is_none(),
            "no token when the last page is exactly full"
        );
    }

    #[test]
    fn arns_split_into_parts() {
        let arn = "arn:aws:connect:us-east-1:123456789012:instance/abc";
        assert_eq!(
            split_arn(arn),
            Some(("us-east-1", "123456789012", "instance", "abc"))
        );
        assert_eq!(split_arn("arn:aws:s3:::bucket"), None);
    }
}
