//! How a frame's count becomes what spin shows: a plain function in a module, hot all the same
//! (a patch names it `physics::advance`, to redefine it or to call it).

/// The value shown for step `s`.
pub fn advance(s: i32) -> i32 {
    scale(s)
}

/// How many units a step is worth (a patch's own `physics` module still calls it as `scale`).
pub fn scale(s: i32) -> i32 {
    s * 10
}

/// A ball: a type of the app's own, which a patch (its own crate) cannot name.
pub struct Ball {
    /// How high it starts.
    pub y: i32,
}

/// How high `ball` is after `s` steps: hot, but a patch cannot call it (its signature names
/// `Ball`), and one that tries is refused, naming why.
pub fn height(ball: &Ball, s: i32) -> i32 {
    ball.y + s
}
