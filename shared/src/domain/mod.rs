//! The domain: regions and their Global Resiliency pairs, instance references, the mirrored
//! resource kinds, and traffic plans that can only hold a valid distribution.

mod alias;
mod arn;
mod kind;
mod refs;
mod region;
mod routing;
mod traffic;

pub use alias::InstanceAlias;
pub use arn::{lambda_function_name, lex_alias_id, Arn};
pub use kind::{Kind, DEFAULT_QUEUE, DEFAULT_ROUTING_PROFILE};
pub use refs::{region_of_arn, GroupRef, InstanceRef};
pub use region::{pair_support, paired_region, PairSupport, Region, RegionPair};
pub use routing::{region_subdomained, Isolate, RoutingState};
pub use traffic::{CurrentDistribution, Split, TrafficPlan};
