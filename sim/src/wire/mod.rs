//! The restJson1 wire format: errors, query strings, JSON bodies, pagination and the
//! identifier shapes.

mod errors;
mod input;
mod pages;
mod shapes;

pub use errors::{
    json_response, ApiError, ApiResult, ErrorCode, ERROR_TYPE, ERROR_TYPE_SUFFIX, REQUEST_ID,
};
pub use input::{decode_component, parse_query, Input};
pub use pages::{decode_token, encode_token, paginate, PageRequest};
pub use shapes::{is_alias, is_region, is_uuid, split_arn};
