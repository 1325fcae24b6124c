//! How a frame's count becomes what spin shows: a plain function in a module, hot all the same
//! (a patch names it `physics::advance`).

/// The value shown for step `s`.
pub fn advance(s: i32) -> i32 {
    s * 10
}
