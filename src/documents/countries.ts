/**
 * ICAO Doc 9303 part 3 state and organisation codes → ISO 3166-1. ICAO uses the ISO alpha-3 codes, plus its own
 * codes for a few states and for organisations and nationality statuses (below). Names come from the ISO alpha-2
 * code through Intl.DisplayNames (ICU's English region names, shipped with Node), so the table holds only codes.
 */

/** alpha-3 → alpha-2, in pairs: "AFGAF" = AFG → AF. */
const ISO_PAIRS =
  'AFGAF ALAAX ALBAL DZADZ ASMAS ANDAD AGOAO AIAAI ATAAQ ATGAG ARGAR ARMAM ABWAW AUSAU AUTAT AZEAZ BHSBS BHRBH BGDBD BRBBB ' +
  'BLRBY BELBE BLZBZ BENBJ BMUBM BTNBT BOLBO BESBQ BIHBA BWABW BVTBV BRABR IOTIO BRNBN BGRBG BFABF BDIBI CPVCV KHMKH CMRCM ' +
  'CANCA CYMKY CAFCF TCDTD CHLCL CHNCN CXRCX CCKCC COLCO COMKM COGCG CODCD COKCK CRICR CIVCI HRVHR CUBCU CUWCW CYPCY CZECZ ' +
  'DNKDK DJIDJ DMADM DOMDO ECUEC EGYEG SLVSV GNQGQ ERIER ESTEE SWZSZ ETHET FLKFK FROFO FJIFJ FINFI FRAFR GUFGF PYFPF ATFTF ' +
  'GABGA GMBGM GEOGE DEUDE GHAGH GIBGI GRCGR GRLGL GRDGD GLPGP GUMGU GTMGT GGYGG GINGN GNBGW GUYGY HTIHT HMDHM VATVA HNDHN ' +
  'HKGHK HUNHU ISLIS INDIN IDNID IRNIR IRQIQ IRLIE IMNIM ISRIL ITAIT JAMJM JPNJP JEYJE JORJO KAZKZ KENKE KIRKI PRKKP KORKR ' +
  'KWTKW KGZKG LAOLA LVALV LBNLB LSOLS LBRLR LBYLY LIELI LTULT LUXLU MACMO MDGMG MWIMW MYSMY MDVMV MLIML MLTMT MHLMH MTQMQ ' +
  'MRTMR MUSMU MYTYT MEXMX FSMFM MDAMD MCOMC MNGMN MNEME MSRMS MARMA MOZMZ MMRMM NAMNA NRUNR NPLNP NLDNL NCLNC NZLNZ NICNI ' +
  'NERNE NGANG NIUNU NFKNF MKDMK MNPMP NORNO OMNOM PAKPK PLWPW PSEPS PANPA PNGPG PRYPY PERPE PHLPH PCNPN POLPL PRTPT PRIPR ' +
  'QATQA REURE ROURO RUSRU RWARW BLMBL SHNSH KNAKN LCALC MAFMF SPMPM VCTVC WSMWS SMRSM STPST SAUSA SENSN SRBRS SYCSC SLESL ' +
  'SGPSG SXMSX SVKSK SVNSI SLBSB SOMSO ZAFZA SGSGS SSDSS ESPES LKALK SDNSD SURSR SJMSJ SWESE CHECH SYRSY TWNTW TJKTJ TZATZ ' +
  'THATH TLSTL TGOTG TKLTK TONTO TTOTT TUNTN TURTR TKMTM TCATC TUVTV UGAUG UKRUA AREAE GBRGB USAUS UMIUM URYUY UZBUZ VUTVU ' +
  'VENVE VNMVN VGBVG VIRVI WLFWF ESHEH YEMYE ZMBZM ZWEZW';

export interface Country {
  /** The code as printed in the MRZ (ICAO). */
  icao: string;
  /** ISO 3166-1 alpha-3, or null for organisations and statuses that are no state. */
  iso3: string | null;
  /** ISO 3166-1 alpha-2, or null likewise. */
  iso2: string | null;
  name: string;
}

/** ICAO's own codes (Doc 9303 part 3, 5): states it codes differently, British nationality classes, organisations, statuses. */
const ICAO_SPECIAL: Record<string, { iso3: string | null; name: string }> = {
  D: { iso3: 'DEU', name: 'Germany' },
  GBD: { iso3: 'GBR', name: 'British Overseas Territories Citizen' },
  GBN: { iso3: 'GBR', name: 'British National (Overseas)' },
  GBO: { iso3: 'GBR', name: 'British Overseas Citizen' },
  GBP: { iso3: 'GBR', name: 'British Protected Person' },
  GBS: { iso3: 'GBR', name: 'British Subject' },
  RKS: { iso3: null, name: 'Kosovo' },
  UNA: { iso3: null, name: 'Specialized agency of the United Nations' },
  UNK: { iso3: null, name: 'United Nations Interim Administration Mission in Kosovo' },
  UNO: { iso3: null, name: 'United Nations' },
  EUE: { iso3: null, name: 'European Union' },
  XBA: { iso3: null, name: 'African Development Bank' },
  XIM: { iso3: null, name: 'African Export-Import Bank' },
  XCC: { iso3: null, name: 'Caribbean Community' },
  XCE: { iso3: null, name: 'Council of Europe' },
  XCO: { iso3: null, name: 'Common Market for Eastern and Southern Africa' },
  XEC: { iso3: null, name: 'Economic Community of West African States' },
  XPO: { iso3: null, name: 'International Criminal Police Organization (INTERPOL)' },
  XES: { iso3: null, name: 'Organisation of Eastern Caribbean States' },
  XMP: { iso3: null, name: 'Parliamentary Assembly of the Mediterranean' },
  XOM: { iso3: null, name: 'Sovereign Military Order of Malta' },
  XDC: { iso3: null, name: 'Southern African Development Community' },
  XXA: { iso3: null, name: 'Stateless person' },
  XXB: { iso3: null, name: 'Refugee (1951 Convention)' },
  XXC: { iso3: null, name: 'Refugee (other)' },
  XXX: { iso3: null, name: 'Unspecified nationality' },
  // The specimen state of ICAO Doc 9303's examples: real specimen documents use it.
  UTO: { iso3: null, name: 'Utopia (specimen)' },
};

const ALPHA2 = new Map(ISO_PAIRS.split(' ').map((p) => [p.slice(0, 3), p.slice(3)] as const));
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** The country or organisation an MRZ code stands for; null for a code that is neither (a misread, or invented). */
export function lookupCountry(code: string): Country | null {
  const icao = code.replace(/</g, '');
  const special = ICAO_SPECIAL[icao];
  if (special) {
    const iso2 = special.iso3 ? (ALPHA2.get(special.iso3) ?? null) : icao === 'RKS' ? 'XK' : null;
    return { icao, iso3: special.iso3, iso2, name: special.name };
  }
  const iso2 = ALPHA2.get(icao);
  if (!iso2) return null;
  return { icao, iso3: icao, iso2, name: regionNames.of(iso2) ?? icao };
}

/** Every state code ICAO takes from ISO 3166 (the synthetic documents draw issuers from it). */
export const ISO_STATE_CODES: readonly string[] = [...ALPHA2.keys()];
