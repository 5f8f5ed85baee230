//! The confirmation a customer gets after an opt-out or opt-in keyword (P19), in the language
//! of the keyword they sent. Each text names the keyword that undoes it, in the same language,
//! so the instruction works as written. A keyword several languages share ("STOP", "START",
//! "PARAR") is answered in English.
//!
//! Meta's own `user_preferences` stop gets no confirmation from us: WhatsApp shows its own.

use super::keywords::ConsentKeyword;

/// One language's confirmations, with the keyword each one names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    /// BCP 47, as in [`super::CONSENT_KEYWORDS`].
    pub language: &'static str,
    /// After an opt-out: no more marketing; reply `opt_in_keyword` to receive it again.
    pub opted_out: &'static str,
    /// An opt-in keyword of the same language, named in `opted_out`.
    pub opt_in_keyword: &'static str,
    /// After an opt-in: subscribed again; reply `opt_out_keyword` to stop.
    pub opted_in: &'static str,
    /// An opt-out keyword of the same language, named in `opted_in`.
    pub opt_out_keyword: &'static str,
}

const fn c(
    language: &'static str,
    opted_out: &'static str,
    opt_in_keyword: &'static str,
    opted_in: &'static str,
    opt_out_keyword: &'static str,
) -> Confirmation {
    Confirmation {
        language,
        opted_out,
        opt_in_keyword,
        opted_in,
        opt_out_keyword,
    }
}

/// Every language of the keyword table; English first (the fallback). The docs' table is
/// printed from this.
pub const CONFIRMATIONS: &[Confirmation] = &[
    c(
        "en",
        "You will no longer receive marketing messages from us on WhatsApp. Reply START to receive them again.",
        "START",
        "You are subscribed again to our messages on WhatsApp. Reply STOP at any time to stop them.",
        "STOP",
    ),
    c(
        "es",
        "Ya no recibirás nuestros mensajes de marketing en WhatsApp. Responde ALTA para volver a recibirlos.",
        "ALTA",
        "Te has vuelto a suscribir a nuestros mensajes en WhatsApp. Responde BAJA en cualquier momento para dejar de recibirlos.",
        "BAJA",
    ),
    c(
        "pt",
        "Você não receberá mais nossas mensagens de marketing no WhatsApp. Responda INICIAR para voltar a recebê-las.",
        "INICIAR",
        "Você voltou a receber nossas mensagens no WhatsApp. Responda SAIR a qualquer momento para deixar de recebê-las.",
        "SAIR",
    ),
    c(
        "fr",
        "Vous ne recevrez plus nos messages marketing sur WhatsApp. Répondez DÉMARRER pour les recevoir à nouveau.",
        "DÉMARRER",
        "Vous êtes de nouveau abonné à nos messages sur WhatsApp. Répondez STOP à tout moment pour ne plus les recevoir.",
        "STOP",
    ),
    c(
        "de",
        "Sie erhalten von uns keine Marketingnachrichten mehr auf WhatsApp. Antworten Sie START, um sie wieder zu erhalten.",
        "START",
        "Sie erhalten unsere Nachrichten auf WhatsApp wieder. Antworten Sie jederzeit STOPP, um sie abzubestellen.",
        "STOPP",
    ),
    c(
        "it",
        "Non riceverai più i nostri messaggi di marketing su WhatsApp. Rispondi INIZIA per riceverli di nuovo.",
        "INIZIA",
        "Sei di nuovo iscritto ai nostri messaggi su WhatsApp. Rispondi STOP in qualsiasi momento per non riceverli più.",
        "STOP",
    ),
    c(
        "nl",
        "Je ontvangt geen marketingberichten meer van ons op WhatsApp. Antwoord AANMELDEN om ze weer te ontvangen.",
        "AANMELDEN",
        "Je bent weer aangemeld voor onze berichten op WhatsApp. Antwoord op elk moment STOP om ze te stoppen.",
        "STOP",
    ),
    c(
        "ar",
        "لن تتلقى رسائلنا التسويقية على واتساب بعد الآن. أرسل ابدأ لتلقيها مرة أخرى.",
        "ابدأ",
        "تم اشتراكك مجددًا في رسائلنا على واتساب. أرسل إيقاف في أي وقت لإيقافها.",
        "إيقاف",
    ),
    c(
        "hi",
        "अब आपको WhatsApp पर हमारे मार्केटिंग संदेश नहीं मिलेंगे। इन्हें फिर से पाने के लिए शुरू लिखकर भेजें।",
        "शुरू",
        "आपने WhatsApp पर हमारे संदेशों की सदस्यता फिर से ले ली है। इन्हें रोकने के लिए कभी भी STOP लिखकर भेजें।",
        "STOP",
    ),
    c(
        "id",
        "Anda tidak akan lagi menerima pesan pemasaran dari kami di WhatsApp. Balas MULAI untuk menerimanya lagi.",
        "MULAI",
        "Anda kembali berlangganan pesan kami di WhatsApp. Balas STOP kapan saja untuk berhenti.",
        "STOP",
    ),
    c(
        "tr",
        "Artık WhatsApp'ta bizden pazarlama mesajları almayacaksınız. Tekrar almak için BAŞLA yazın.",
        "BAŞLA",
        "WhatsApp'taki mesajlarımıza yeniden abone oldunuz. Durdurmak için istediğiniz zaman DUR yazın.",
        "DUR",
    ),
    c(
        "ru",
        "Вы больше не будете получать от нас маркетинговые сообщения в WhatsApp. Ответьте СТАРТ, чтобы снова их получать.",
        "СТАРТ",
        "Вы снова подписаны на наши сообщения в WhatsApp. Ответьте СТОП в любой момент, чтобы отписаться.",
        "СТОП",
    ),
];

/// The confirmation of `effect` in `language`, English where the language is unknown, shared
/// by several languages (`None`) or has no texts.
pub fn confirmation(effect: ConsentKeyword, language: Option<&str>) -> &'static str {
    let texts = language
        .and_then(|l| CONFIRMATIONS.iter().find(|c| c.language == l))
        .unwrap_or(&CONFIRMATIONS[0]);
    match effect {
        ConsentKeyword::OptOut => texts.opted_out,
        ConsentKeyword::OptIn => texts.opted_in,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::keywords::{CONSENT_KEYWORDS, consent_keyword, consent_keyword_match};
    use std::collections::BTreeSet;

    #[test]
    fn every_language_of_the_keyword_table_has_both_texts() {
        let keyword_languages: BTreeSet<_> = CONSENT_KEYWORDS.iter().map(|&(l, _, _)| l).collect();
        let confirmed: BTreeSet<_> = CONFIRMATIONS.iter().map(|c| c.language).collect();
        assert_eq!(confirmed, keyword_languages);
        assert_eq!(confirmed.len(), CONFIRMATIONS.len(), "one row per language");
        assert_eq!(CONFIRMATIONS[0].language, "en");
        for c in CONFIRMATIONS {
            assert!(!c.opted_out.trim().is_empty(), "{}", c.language);
            assert!(!c.opted_in.trim().is_empty(), "{}", c.language);
            assert_ne!(c.opted_out, c.opted_in, "{}", c.language);
        }
    }

    #[test]
    fn the_keyword_each_confirmation_names_works_in_that_language() {
        for c in CONFIRMATIONS {
            assert!(c.opted_out.contains(c.opt_in_keyword), "{}", c.language);
            assert!(c.opted_in.contains(c.opt_out_keyword), "{}", c.language);
            assert!(
                CONSENT_KEYWORDS.contains(&(c.language, c.opt_in_keyword, ConsentKeyword::OptIn)),
                "{} names {} to opt back in",
                c.language,
                c.opt_in_keyword
            );
            assert!(
                CONSENT_KEYWORDS.contains(&(c.language, c.opt_out_keyword, ConsentKeyword::OptOut)),
                "{} names {} to opt out",
                c.language,
                c.opt_out_keyword
            );
            // And the matcher reads the word as written in the text.
            assert_eq!(
                consent_keyword(c.opt_in_keyword),
                Some(ConsentKeyword::OptIn)
            );
            assert_eq!(
                consent_keyword(c.opt_out_keyword),
                Some(ConsentKeyword::OptOut)
            );
        }
    }

    #[test]
    fn an_opt_out_by_baja_is_confirmed_in_spanish() {
        let m = consent_keyword_match("¡Baja!").expect("a keyword");
        assert_eq!(m.effect, ConsentKeyword::OptOut);
        let text = confirmation(m.effect, m.language);
        assert!(text.starts_with("Ya no recibirás"), "{text}");
        assert!(text.contains("ALTA"));
        let m = consent_keyword_match("alta").expect("a keyword");
        assert!(confirmation(m.effect, m.language).contains("BAJA"));
    }

    #[test]
    fn a_shared_or_unknown_language_falls_back_to_english() {
        for word in ["STOP", "parar", "Start"] {
            let m = consent_keyword_match(word).expect("a keyword");
            assert!(
                confirmation(m.effect, m.language).contains("WhatsApp. Reply"),
                "{word}"
            );
        }
        assert_eq!(
            confirmation(ConsentKeyword::OptOut, Some("xx")),
            CONFIRMATIONS[0].opted_out
        );
    }

    #[test]
    fn the_table_prints_as_the_docs_show_it() {
        let mut doc =
            String::from("| language | after an opt-out | after an opt-in |\n|---|---|---|\n");
        for c in CONFIRMATIONS {
            doc.push_str(&format!(
                "| {} | {} | {} |\n",
                c.language, c.opted_out, c.opted_in
            ));
        }
        println!("{doc}");
        assert!(doc.contains("| es | Ya no recibirás"));
    }
}
