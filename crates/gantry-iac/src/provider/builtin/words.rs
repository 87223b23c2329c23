//! Word lists for `random_pet`: generic English adverbs, adjectives and
//! animal names, lowercase ASCII, sorted. A pet name of length n is
//! n-2 adverbs, one adjective and one name (`quickly-brave-otter`).

/// Adverbs, used before the adjective when the length is above 2.
pub const ADVERBS: &[&str] = &[
    "abruptly",
    "absently",
    "actively",
    "adequately",
    "amazingly",
    "amply",
    "angrily",
    "anxiously",
    "aptly",
    "barely",
    "blindly",
    "boldly",
    "bravely",
    "briefly",
    "brightly",
    "briskly",
    "broadly",
    "busily",
    "calmly",
    "carefully",
    "casually",
    "cheerfully",
    "clearly",
    "closely",
    "comfortably",
    "correctly",
    "curiously",
    "daily",
    "deeply",
    "deftly",
    "directly",
    "eagerly",
    "easily",
    "evenly",
    "exactly",
    "fairly",
    "firmly",
    "fondly",
    "freely",
    "fully",
    "gently",
    "gladly",
    "gracefully",
    "greatly",
    "happily",
    "hardly",
    "highly",
    "honestly",
    "humbly",
    "jointly",
    "justly",
    "kindly",
    "largely",
    "lazily",
    "lightly",
    "likely",
    "loudly",
    "lovingly",
    "loyally",
    "madly",
    "merely",
    "mildly",
    "mostly",
    "neatly",
    "nicely",
    "nobly",
    "openly",
    "partly",
    "patiently",
    "plainly",
    "politely",
    "poorly",
    "promptly",
    "properly",
    "proudly",
    "quickly",
    "quietly",
    "rapidly",
    "rarely",
    "readily",
    "really",
    "rightly",
    "roughly",
    "sadly",
    "safely",
    "sharply",
    "shyly",
    "simply",
    "slowly",
    "smoothly",
    "softly",
    "solely",
    "steadily",
    "strongly",
    "surely",
    "sweetly",
    "swiftly",
    "tenderly",
    "truly",
    "vastly",
    "warmly",
    "wildly",
    "wisely",
];

/// Adjectives, used before the name when the length is 2 or more.
pub const ADJECTIVES: &[&str] = &[
    "able", "active", "amber", "ample", "ancient", "awake", "bold", "brave", "bright", "brisk",
    "broad", "busy", "calm", "candid", "clean", "clear", "clever", "close", "cosmic", "crisp",
    "curious", "dapper", "daring", "deep", "eager", "early", "easy", "epic", "even", "exact",
    "fair", "fancy", "fast", "fine", "firm", "fit", "fleet", "fond", "frank", "free", "fresh",
    "friendly", "funny", "gentle", "giant", "glad", "golden", "good", "grand", "great", "happy",
    "hardy", "hearty", "helpful", "honest", "humble", "jolly", "keen", "kind", "large", "lasting",
    "lively", "loyal", "lucky", "merry", "mighty", "modest", "neat", "nice", "noble", "open",
    "patient", "plain", "polite", "precise", "proud", "quick", "quiet", "rapid", "ready", "regal",
    "robust", "rosy", "royal", "rustic", "safe", "sharp", "shiny", "silent", "simple", "sleek",
    "smart", "smooth", "snug", "solid", "sound", "steady", "stellar", "sturdy", "sunny", "super",
    "sure", "sweet", "swift", "tender", "tidy", "tough", "true", "trusty", "upbeat", "valid",
    "vast", "warm", "wise", "witty", "young", "zesty",
];

/// Animal names: the last word of every pet name.
pub const NAMES: &[&str] = &[
    "ant", "ape", "badger", "bat", "bear", "beaver", "bee", "beetle", "bison", "boar", "buffalo",
    "bull", "camel", "canary", "cardinal", "cat", "cheetah", "chicken", "chipmunk", "cobra", "cod",
    "colt", "condor", "cougar", "cow", "coyote", "crab", "crane", "cricket", "crow", "deer",
    "dingo", "dog", "dolphin", "donkey", "dove", "duck", "eagle", "eel", "elk", "emu", "falcon",
    "ferret", "finch", "flamingo", "fox", "frog", "gazelle", "gecko", "gerbil", "giraffe", "gnat",
    "gnu", "goat", "goose", "gopher", "gorilla", "grouse", "gull", "hamster", "hare", "hawk",
    "hedgehog", "heron", "horse", "hound", "hyena", "ibis", "iguana", "jackal", "jaguar", "jay",
    "kangaroo", "kite", "koala", "lamb", "lark", "lemur", "leopard", "lion", "lizard", "llama",
    "lobster", "lynx", "magpie", "mallard", "marmot", "mole", "mongoose", "monkey", "moose",
    "moth", "mouse", "mule", "newt", "ocelot", "octopus", "orca", "osprey", "otter", "owl", "ox",
    "panda", "panther", "parrot", "pelican", "penguin", "pigeon", "pony", "possum", "puffin",
    "puma", "quail", "rabbit", "raccoon", "ram", "raven", "robin", "salmon", "seal", "shark",
    "sheep", "shrew", "skunk", "sloth", "snail", "sparrow", "spider", "squid", "stag", "stork",
    "swan", "tapir", "tiger", "toad", "trout", "turkey", "turtle", "viper", "vulture", "walrus",
    "wasp", "weasel", "whale", "wolf", "wombat", "worm", "wren", "yak", "zebra",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_distinct_lowercase_words() {
        for list in [ADVERBS, ADJECTIVES, NAMES] {
            assert!(list.len() >= 100, "{} words", list.len());
            assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
            assert!(
                list.iter()
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            );
        }
    }
}
