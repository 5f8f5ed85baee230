//! Text folding shared by keyword matching and the Commerce Policy screen: people write
//! STOP as "Stop!", "stop", "ＳＴＯＰ"; ARRÊT as "arret"; İPTAL as "iptal". Both the table
//! words and the message go through the same folding, so they meet whatever was typed.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Compatibility decomposition (NFKD, so fullwidth letters, ligatures and Arabic
/// presentation forms fold too), accents dropped, lower case; Turkish dotless ı reads as i,
/// German ß as ss, and the Arabic tatweel (a stretching stroke) is dropped.
///
/// Only diacritics are dropped, not every combining mark: Devanagari vowel signs are
/// combining marks that spell the word (रोकें without them is another word).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        match c {
            c if is_diacritic(c) => {}
            'ı' => out.push('i'),
            'ß' => out.push_str("ss"),
            '\u{0640}' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn is_diacritic(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'     // combining diacritical marks (Latin, Greek, Cyrillic)
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{0591}'..='\u{05BD}'   // Hebrew points
        | '\u{05BF}' | '\u{05C1}' | '\u{05C2}' | '\u{05C4}' | '\u{05C5}' | '\u{05C7}'
        | '\u{0610}'..='\u{061A}'   // Arabic harakat, hamza above and below, Quranic marks
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E4}'
        | '\u{06E7}' | '\u{06E8}'
        | '\u{06EA}'..='\u{06ED}'
        | '\u{093C}'                // Devanagari nukta: written or not, the same word
    )
}

/// The words of folded text, in order. A word is a run of letters, digits and the marks
/// that belong to them; everything else (spaces, punctuation, emoji) separates words.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c)))
        .filter(|w| !w.is_empty())
}

/// The text folded, its words joined by single spaces: "  ¡Stop, all! " → "stop all".
pub fn canonical(text: &str) -> String {
    let folded = fold(text);
    words(&folded).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_meets_what_people_type() {
        assert_eq!(canonical(" Stop! "), "stop");
        assert_eq!(canonical("ARRÊT"), canonical("arret"));
        assert_eq!(canonical("İPTAL"), "iptal");
        assert_eq!(canonical("ıptal"), "iptal");
        assert_eq!(canonical("ＳＴＯＰ"), "stop");
        assert_eq!(canonical("opt-out"), "opt out");
        assert_eq!(canonical("Straße"), "strasse");
        assert_eq!(canonical("ОТПИСАТЬСЯ"), "отписаться");
        assert_eq!(canonical("إلغاء"), canonical("الغاء"));
        assert_eq!(canonical("🛑 stop 🛑"), "stop");
        assert_eq!(canonical("Désabonner."), "desabonner");
    }

    #[test]
    fn devanagari_keeps_its_vowel_signs() {
        assert_eq!(canonical("रोकें"), "रोकें".nfkd().collect::<String>());
        assert_ne!(canonical("रोकें"), canonical("रक"));
        assert_eq!(canonical("बंद  करें"), canonical("बंद करें"));
    }
}
