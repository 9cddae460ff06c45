//! Contraindications in shared words: what staff read on the program card
//! before they start, in every language the panel speaks.
//!
//! Programs list the conditions that apply to them from here, so the same
//! condition reads the same on every card, and its translation cannot drift
//! from the English. A condition of a program's own is a [`Contraindication`]
//! the program defines beside its list.
//!
//! ```
//! use tarsal_sdk::contraindications::*;
//! use tarsal_sdk::prelude::*;
//!
//! const LIST: &[Contraindication] = &[FEVER_OR_ACUTE_INFECTION, BLOOD_CLOT];
//! let english = english(LIST);
//! assert_eq!(english[1], "Thrombophlebitis or a blood clot in a leg");
//! assert_eq!(in_language("vi", LIST).len(), 2);
//! ```

/// One condition under which a program must not be used, in each language
/// the panel speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contraindication {
    /// English, the language of the program's own texts.
    pub en: &'static str,
    /// Vietnamese.
    pub vi: &'static str,
}

impl Contraindication {
    /// The text in `language` (`en`, `vi`); `None` for a language this SDK
    /// has no words in.
    pub fn text(&self, language: &str) -> Option<&'static str> {
        match language {
            "en" => Some(self.en),
            "vi" => Some(self.vi),
            _ => None,
        }
    }
}

/// The English texts of `list`, for `ProgramInfo::contraindications`.
pub fn english(list: &[Contraindication]) -> Vec<String> {
    list.iter().map(|c| c.en.to_owned()).collect()
}

/// The texts of `list` in `language`, for a `Translation`; empty for a
/// language this SDK has no words in (the panel then shows the English).
pub fn in_language(language: &str, list: &[Contraindication]) -> Vec<String> {
    list.iter()
        .map(|c| c.text(language).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default()
}

/// Fever or an acute infection: the body is already fighting something.
pub const FEVER_OR_ACUTE_INFECTION: Contraindication = Contraindication {
    en: "Fever or an acute infection",
    vi: "Sốt hoặc nhiễm trùng cấp tính",
};

/// Broken skin where the chair works.
pub const WOUNDS_ON_FEET_OR_LEGS: Contraindication = Contraindication {
    en: "Wounds, deep scratches or burns on the feet or legs",
    vi: "Vết thương, vết xước sâu hoặc vết bỏng ở bàn chân hay chân",
};

/// Broken skin or fresh injuries on the feet (for programs that do not
/// work the calves).
pub const WOUNDS_ON_FEET: Contraindication = Contraindication {
    en: "Open wounds, deep scratches or fresh injuries on the feet",
    vi: "Vết thương hở, vết xước sâu hoặc chấn thương mới ở bàn chân",
};

/// A skin condition that pressure, heat or water would make worse or spread.
pub const SKIN_DISEASE_FLARING: Contraindication = Contraindication {
    en: "A skin infection or skin disease on the feet or legs that is flaring up (for example athlete's foot)",
    vi: "Nhiễm trùng da hoặc bệnh da ở bàn chân hay chân đang bùng phát (ví dụ nấm kẽ chân)",
};

/// A clot that massage could loosen.
pub const BLOOD_CLOT: Contraindication = Contraindication {
    en: "Thrombophlebitis or a blood clot in a leg",
    vi: "Viêm tắc tĩnh mạch hoặc cục máu đông ở chân",
};

/// Veins that pressure would harm.
pub const VARICOSE_VEINS: Contraindication = Contraindication {
    en: "Pronounced varicose veins",
    vi: "Giãn tĩnh mạch nặng",
};

/// Bruising and bleeding come too easily.
pub const BLEEDING_DISORDER: Contraindication = Contraindication {
    en: "A bleeding disorder, or bleeding",
    vi: "Rối loạn đông máu hoặc đang chảy máu",
};

/// A long illness in a bad phase.
pub const CHRONIC_DISEASE_FLARING: Contraindication = Contraindication {
    en: "A chronic disease that is flaring up",
    vi: "Bệnh mãn tính đang tái phát",
};

/// For programs that move fluid toward the heart.
pub const HIGH_BLOOD_PRESSURE: Contraindication = Contraindication {
    en: "High blood pressure",
    vi: "Huyết áp cao",
};

/// For programs that move lymph.
pub const TUMOUR: Contraindication = Contraindication {
    en: "A tumour or cancer",
    vi: "Khối u hoặc ung thư",
};

/// The client cannot feel when heat or water is too hot.
pub const REDUCED_FEELING_IN_FEET: Contraindication = Contraindication {
    en: "Reduced feeling in the feet (for example from diabetes): the client cannot tell if heat or water is too hot",
    vi: "Bàn chân giảm cảm giác (ví dụ do tiểu đường): khách không nhận biết được khi nhiệt hoặc nước quá nóng",
};

/// Clients for whom firm point pressure is too much.
pub const YOUNG_CHILD_OR_FRAIL: Contraindication = Contraindication {
    en: "A young child, or a frail elderly client",
    vi: "Trẻ nhỏ hoặc người cao tuổi yếu sức",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_gets_the_whole_list_or_nothing() {
        let list = [FEVER_OR_ACUTE_INFECTION, TUMOUR];
        assert_eq!(
            english(&list),
            ["Fever or an acute infection", "A tumour or cancer"]
        );
        assert_eq!(
            in_language("vi", &list),
            ["Sốt hoặc nhiễm trùng cấp tính", "Khối u hoặc ung thư"]
        );
        assert!(in_language("de", &list).is_empty());
    }
}
