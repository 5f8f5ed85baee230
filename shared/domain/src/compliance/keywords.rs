//! Opt-out and opt-in keywords (P19): a customer's message that is, as a whole, one of these
//! words changes their consent.
//!
//! Matching is on the whole message, trimmed, with surrounding punctuation and emoji ignored,
//! case- and accent-insensitive ("Stop!", " stop ", "arret" for ARRÊT, "iptal" for İPTAL).
//! A keyword inside a sentence ("stop please", "don't stop") does not count: whole-message
//! matching is what carriers and Meta's own guidance use, and it keeps ordinary replies from
//! silently unsubscribing anyone.
//!
//! Left out on purpose: YES / SI / OUI (they answer every question a bot asks), and the
//! Portuguese VOLTAR ("back": the usual menu option in Brazilian chatbots, which would opt
//! people in by accident).

use super::text::canonical;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKeyword {
    OptOut,
    OptIn,
}

impl ConsentKeyword {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKeyword::OptOut => "opt_out",
            ConsentKeyword::OptIn => "opt_in",
        }
    }
}

use ConsentKeyword::{OptIn, OptOut};

/// (BCP 47 language, keyword as written, what it does). Spelling variants are listed where
/// people write both (ARRÊT and ARRET fold to the same word; both are listed for the docs).
/// The docs' keyword table is generated from this.
pub const CONSENT_KEYWORDS: &[(&str, &str, ConsentKeyword)] = &[
    ("en", "STOP", OptOut),
    ("en", "STOP ALL", OptOut),
    ("en", "STOPALL", OptOut),
    ("en", "UNSUBSCRIBE", OptOut),
    ("en", "CANCEL", OptOut),
    ("en", "END", OptOut),
    ("en", "QUIT", OptOut),
    ("en", "OPT OUT", OptOut),
    ("en", "OPTOUT", OptOut),
    ("en", "START", OptIn),
    ("en", "UNSTOP", OptIn),
    ("en", "SUBSCRIBE", OptIn),
    ("es", "BAJA", OptOut),
    ("es", "CANCELAR", OptOut),
    ("es", "PARAR", OptOut),
    ("es", "DETENER", OptOut),
    ("es", "ALTO", OptOut),
    ("es", "ALTA", OptIn),
    ("es", "INICIAR", OptIn),
    ("pt", "PARAR", OptOut),
    ("pt", "SAIR", OptOut),
    ("pt", "CANCELAR", OptOut),
    ("pt", "DESCADASTRAR", OptOut),
    ("pt", "INICIAR", OptIn),
    ("fr", "STOP", OptOut),
    ("fr", "ARRÊT", OptOut),
    ("fr", "ARRET", OptOut),
    ("fr", "DÉSABONNER", OptOut),
    ("fr", "DESABONNER", OptOut),
    ("fr", "DÉMARRER", OptIn),
    ("fr", "DEMARRER", OptIn),
    ("de", "STOPP", OptOut),
    ("de", "ABMELDEN", OptOut),
    ("de", "ABBESTELLEN", OptOut),
    ("de", "START", OptIn),
    ("it", "STOP", OptOut),
    ("it", "BASTA", OptOut),
    ("it", "CANCELLA", OptOut),
    ("it", "DISISCRIVITI", OptOut),
    ("it", "INIZIA", OptIn),
    ("nl", "STOP", OptOut),
    ("nl", "AFMELDEN", OptOut),
    ("nl", "UITSCHRIJVEN", OptOut),
    ("nl", "AANMELDEN", OptIn),
    ("ar", "إلغاء", OptOut),
    ("ar", "الغاء", OptOut),
    ("ar", "إيقاف", OptOut),
    ("ar", "ايقاف", OptOut),
    ("ar", "توقف", OptOut),
    ("ar", "ابدأ", OptIn),
    ("hi", "STOP", OptOut),
    ("hi", "रोकें", OptOut),
    ("hi", "बंद करें", OptOut),
    ("hi", "शुरू", OptIn),
    ("id", "STOP", OptOut),
    ("id", "BERHENTI", OptOut),
    ("id", "MULAI", OptIn),
    ("tr", "DUR", OptOut),
    ("tr", "İPTAL", OptOut),
    ("tr", "IPTAL", OptOut),
    ("tr", "ABONELİKTEN ÇIK", OptOut),
    ("tr", "ABONELIKTEN CIK", OptOut),
    ("tr", "BAŞLA", OptIn),
    ("tr", "BASLA", OptIn),
    ("ru", "СТОП", OptOut),
    ("ru", "ОТПИСАТЬСЯ", OptOut),
    ("ru", "СТАРТ", OptIn),
];

/// A keyword a customer sent: what it does and, where only one language of the table uses the
/// word, that language (for the confirmation). `None` for a word several languages share
/// ("STOP", "START", "PARAR"): the confirmation is then in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordMatch {
    pub effect: ConsentKeyword,
    pub language: Option<&'static str>,
}

fn table() -> &'static HashMap<String, KeywordMatch> {
    static TABLE: OnceLock<HashMap<String, KeywordMatch>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: HashMap<String, KeywordMatch> = HashMap::new();
        for &(lang, word, effect) in CONSENT_KEYWORDS {
            table
                .entry(canonical(word))
                .and_modify(|m| {
                    if m.language != Some(lang) {
                        m.language = None;
                    }
                })
                .or_insert(KeywordMatch {
                    effect,
                    language: Some(lang),
                });
        }
        table
    })
}

/// What a customer's message does to their consent, if it is a keyword.
pub fn consent_keyword(text: &str) -> Option<ConsentKeyword> {
    consent_keyword_match(text).map(|m| m.effect)
}

/// [`consent_keyword`] with the keyword's language, where it has only one.
pub fn consent_keyword_match(text: &str) -> Option<KeywordMatch> {
    // Keywords are a few words; a long message is a sentence, whatever it contains.
    if text.len() > 64 {
        return None;
    }
    table().get(&canonical(text)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_matches_ignore_case_accents_and_surrounding_punctuation() {
        for text in [
            "STOP",
            "Stop!",
            " stop ",
            "stop.",
            "¡Baja!",
            "«Arrêt»",
            "arret",
            "ARRÊT",
        ] {
            assert_eq!(consent_keyword(text), Some(OptOut), "{text:?}");
        }
        for text in [
            "İPTAL",
            "iptal",
            "IPTAL",
            "ıptal",
            "Abonelikten çık",
            "abonelikten cik",
        ] {
            assert_eq!(consent_keyword(text), Some(OptOut), "{text:?}");
        }
        for text in ["opt-out", "Opt Out", "optout", "STOP ALL", "stop  all"] {
            assert_eq!(consent_keyword(text), Some(OptOut), "{text:?}");
        }
        assert_eq!(consent_keyword("стоп"), Some(OptOut));
        assert_eq!(consent_keyword("الغاء"), Some(OptOut));
        assert_eq!(consent_keyword("إلغاء"), Some(OptOut));
        assert_eq!(consent_keyword("रोकें"), Some(OptOut));
        assert_eq!(consent_keyword("बंद करें"), Some(OptOut));
        assert_eq!(consent_keyword("Start"), Some(OptIn));
        assert_eq!(consent_keyword("démarrer"), Some(OptIn));
        assert_eq!(consent_keyword("Başla"), Some(OptIn));
        assert_eq!(consent_keyword("СТАРТ"), Some(OptIn));
        assert_eq!(consent_keyword("ابدأ"), Some(OptIn));
    }

    #[test]
    fn keywords_inside_a_sentence_do_not_count() {
        for text in [
            "stop please",
            "please stop",
            "don't stop",
            "stop!!! and cancel my order",
            "yes",
            "voltar",
            "",
            "   ",
            "s t o p",
            "stopping",
        ] {
            assert_eq!(consent_keyword(text), None, "{text:?}");
        }
        assert_eq!(consent_keyword(&"stop ".repeat(20)), None);
    }

    #[test]
    fn a_word_of_one_language_knows_it_and_a_shared_word_does_not() {
        let lang = |t| consent_keyword_match(t).and_then(|m| m.language);
        assert_eq!(lang("baja"), Some("es"));
        assert_eq!(lang("Arrêt"), Some("fr"));
        assert_eq!(lang("arret"), Some("fr"));
        assert_eq!(lang("Stopp"), Some("de"));
        assert_eq!(lang("iptal"), Some("tr"));
        assert_eq!(lang("СТОП"), Some("ru"));
        for shared in ["STOP", "START", "PARAR", "CANCELAR", "INICIAR"] {
            assert_eq!(lang(shared), None, "{shared}");
        }
    }

    #[test]
    fn no_word_both_opts_in_and_out() {
        let mut seen: HashMap<String, ConsentKeyword> = HashMap::new();
        for &(lang, word, kind) in CONSENT_KEYWORDS {
            assert!(!lang.is_empty() && !word.trim().is_empty());
            let key = canonical(word);
            if let Some(prev) = seen.insert(key.clone(), kind) {
                assert_eq!(prev, kind, "{word} ({lang}) folds to {key:?} both ways");
            }
            assert_eq!(consent_keyword(word), Some(kind), "{word} ({lang})");
        }
    }

    #[test]
    fn the_table_prints_as_the_docs_show_it() {
        let mut doc = String::from("| language | keyword | effect |\n|---|---|---|\n");
        for &(lang, word, kind) in CONSENT_KEYWORDS {
            doc.push_str(&format!("| {lang} | {word} | {} |\n", kind.as_str()));
        }
        println!("{doc}");
        assert_eq!(CONSENT_KEYWORDS.len(), 67);
        assert!(doc.contains("| tr | İPTAL | opt_out |"));
        let languages: std::collections::BTreeSet<_> =
            CONSENT_KEYWORDS.iter().map(|&(l, _, _)| l).collect();
        assert_eq!(
            languages.into_iter().collect::<Vec<_>>(),
            [
                "ar", "de", "en", "es", "fr", "hi", "id", "it", "nl", "pt", "ru", "tr"
            ]
        );
    }
}
