/**
 * The value sets the rules match on, as data. Codes come from ../shared/clinical/knowledge-base.md;
 * rules match on system + code, never on display, except for the documented text fallbacks.
 */

export const SYSTEM = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  cpt: 'http://www.ama-assn.org/go/cpt',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  ucum: 'http://unitsofmeasure.org',
} as const;

/**
 * 25-hydroxyvitamin D results (any of them means "tested"). 49054-0 is the D2 fraction; 1989-3 (mass) and
 * 14635-7 (moles) are D3, which many labs use for the total when they report it alone.
 */
export const VITAMIN_D_LOINC = {
  total: '62292-8',
  legacyTotal: '35365-6',
  d2Fraction: '49054-0',
  d3Fraction: '1989-3',
  d3Molar: '14635-7',
} as const;
export const VITAMIN_D_RESULT_CODES: ReadonlySet<string> = new Set(Object.values(VITAMIN_D_LOINC));

/** Total B12 in serum or plasma: classified. */
export const B12_TOTAL_LOINC: ReadonlySet<string> = new Set(['2132-9', '14685-2']);
/** B12 in whole blood: counts as tested, never classified (the NICE thresholds are for serum). */
export const B12_BLOOD_LOINC: ReadonlySet<string> = new Set(['16695-9']);
export const HOLO_TC_LOINC: ReadonlySet<string> = new Set(['72160-5']);
export const MMA_LOINC: ReadonlySet<string> = new Set(['13964-2']);

/** Serum calcium (change 4): 17861-6 mg/dL, 2000-8 mmol/L, 29265-6 corrected for albumin. */
export const CALCIUM_LOINC = {
  massConcentration: '17861-6',
  molarConcentration: '2000-8',
  albuminCorrected: '29265-6',
} as const;
export const CALCIUM_RESULT_CODES: ReadonlySet<string> = new Set(Object.values(CALCIUM_LOINC));

/**
 * Billing CPT codes a lab order may carry instead of LOINC (knowledge base §2.3, V2): 82306 25-hydroxyvitamin D,
 * 82607 vitamin B12. Read only to see that the test is already ordered; the CPT codes for MMA, PTH and
 * homocysteine are unverified (U) and left out.
 */
export const LAB_ORDER_CPT: Readonly<Record<'vitaminD' | 'b12', ReadonlySet<string>>> = {
  vitaminD: new Set(['82306']),
  b12: new Set(['82607']),
};

export type ConditionGroup =
  | 'backPain'
  | 'crampOrSpasm'
  | 'neuropathy'
  | 'otherNeurological'
  | 'anaemia'
  | 'hypercalcaemia'
  | 'sarcoidosis'
  | 'primaryHyperparathyroidism'
  | 'severeKidneyDisease'
  | 'kidneyStones'
  | 'knownB12Deficiency'
  | 'macrocyticAnaemia'
  | 'pregnancy';

interface ConditionValueSet {
  readonly snomed: ReadonlySet<string>;
  /** Normalised ICD-10-CM prefixes (upper case, no dot). */
  readonly icd10Prefixes: readonly string[];
  readonly icd10Excluded: readonly string[];
  /** Applied only to conditions with no SNOMED CT or ICD-10-CM coding at all. */
  readonly textPattern: RegExp;
}

const BACK_PAIN_SNOMED = [
  // back and neck pain
  '278860009',
  '279039007',
  '279040009',
  '161891005',
  '134407002',
  '279038004',
  '399194009',
  '81680005',
  '1121000119107',
  // generic chronic pain
  '82423001',
  '373621006',
  // muscle spasm and cramp
  '203095000',
  '45352006',
  '95418008',
  '55300003',
  '449918009',
  // radiculopathy
  '72274001',
  '128196005',
  '54404000',
  '2415007',
  '23056005',
  '202735001',
  // stenosis, spondylolisthesis, disc degeneration, scoliosis, post-laminectomy
  '76107001',
  '18347007',
  '370471003',
  '83561009',
  '274152003',
  '4046000',
  '77547008',
  '26538006',
  '69195002',
  '60937000',
  '298382003',
  '203639008',
  '202725007',
  '202723000',
];

const CRAMP_SNOMED = ['203095000', '45352006', '95418008', '55300003', '449918009'];

export const CONDITION_VALUE_SETS: Readonly<Record<ConditionGroup, ConditionValueSet>> = {
  backPain: {
    snomed: new Set(BACK_PAIN_SNOMED),
    icd10Prefixes: [
      'M545',
      'M542',
      'M546',
      'M549',
      'M541',
      'M543',
      'M544',
      'M548',
      'G8929',
      'G894',
      'M6283',
      'R252',
      'M480',
      'M431',
      'M513',
      'M503',
      'M511',
      'M501',
      'M41',
      'M961',
    ],
    icd10Excluded: ['M540'],
    textPattern:
      /back pain|backache|lumbago|neck pain|cervicalgia|dorsalgia|sciatica|radiculopathy|muscle spasm|spinal stenosis|spondylolisthesis|disc degeneration|scoliosis|post-?laminectomy/i,
  },
  crampOrSpasm: {
    snomed: new Set(CRAMP_SNOMED),
    icd10Prefixes: ['M6283', 'R252'],
    icd10Excluded: [],
    // Muscle cramps and spasms only: a spasm of an airway, a vessel, the gut or the eyelid (bronchospasm,
    // vasospasm, oesophageal spasm, blepharospasm, hemifacial or infantile spasms, menstrual cramps) is not.
    textPattern:
      /(?<!\b(?:hemifacial|o?esophageal|infantile|coronary|arterial|artery|vascular|abdominal|menstrual|stomach|intestinal|colonic|bladder|uterine|habit|writer'?s)\s)\b(?:cramps?|cramping|(?:myo)?spasm(?:s|ing)?|spasmodic\s+torticollis)\b(?!\s+of\s+(?:the\s+)?(?:o?esophagus|larynx|bronch|coronary|arter|sphincter|bladder|colon|bowel|stomach\b(?!\s+muscles?)|accommodation|eyelid))/i,
  },
  neuropathy: {
    // Neuropathy, peripheral nerve disease, polyneuropathy, diabetic neuropathy (Synthea: 368581000119106),
    // paraesthesia, numbness (knowledge base §12).
    snomed: new Set([
      '386033004',
      '302226006',
      '42345000',
      '368581000119106',
      '230572002',
      '91019004',
      '44077006',
    ]),
    icd10Prefixes: ['G60', 'G61', 'G62', 'G63', 'G64', 'E104', 'E114', 'E134', 'R200', 'R202'],
    icd10Excluded: [],
    textPattern: /neuropath|paraesthesi|paresthesi|numbness/i,
  },
  otherNeurological: {
    // Subacute combined degeneration or myelopathy, ataxia or gait disturbance, cognitive impairment or memory
    // loss, visual disturbance or optic neuropathy (knowledge base §12; several codes marked U there).
    snomed: new Set(['20262006', '386806002', '63102001']),
    icd10Prefixes: ['G320', 'G959', 'R26', 'R270', 'R413', 'G3184', 'F03', 'H46', 'H470'],
    icd10Excluded: [],
    textPattern:
      /subacute combined degeneration|myelopathy|ataxi|gait disturbance|cognitive impairment|memory loss|visual disturbance|optic neuropathy/i,
  },
  anaemia: {
    // Anaemia, macrocytic anaemia, megaloblastic anaemia, pernicious anaemia.
    snomed: new Set(['271737000', '83414005', '53165003', '84027009']),
    icd10Prefixes: ['D50', 'D51', 'D52', 'D53', 'D64', 'D7589'],
    icd10Excluded: [],
    textPattern: /an(a)?emi|macrocyt/i,
  },
  hypercalcaemia: {
    snomed: new Set(['66931009']),
    icd10Prefixes: ['E8352'],
    icd10Excluded: [],
    textPattern: /hypercalc/i,
  },
  sarcoidosis: {
    snomed: new Set(['31541009']),
    icd10Prefixes: ['D86'],
    icd10Excluded: [],
    textPattern: /sarcoid/i,
  },
  primaryHyperparathyroidism: {
    snomed: new Set(['36348003']),
    icd10Prefixes: ['E210'],
    icd10Excluded: [],
    textPattern: /primary hyperparathyroidism/i,
  },
  severeKidneyDisease: {
    // CKD stage 4, stage 5, end-stage renal disease, dependence on dialysis.
    snomed: new Set(['431857002', '433146000', '46177005', '105502003']),
    icd10Prefixes: ['N184', 'N185', 'N186', 'Z992'],
    icd10Excluded: [],
    textPattern: /chronic kidney disease,? stage [45]|end[- ]stage renal|dialysis/i,
  },
  kidneyStones: {
    snomed: new Set(['95570007']),
    icd10Prefixes: ['N20'],
    icd10Excluded: [],
    textPattern: /kidney stone|nephrolithiasis|renal calcul/i,
  },
  knownB12Deficiency: {
    // Pernicious anaemia, cobalamin deficiency, vitamin B12 deficiency (non anaemic); D51 B12 deficiency
    // anaemia, E53.8 (used for B12 deficiency).
    snomed: new Set(['84027009', '190634004', '64117007']),
    icd10Prefixes: ['D51', 'E538'],
    icd10Excluded: [],
    textPattern: /pernicious an(a)?emia|(vitamin )?b12 deficiency|cobalamin deficiency/i,
  },
  macrocyticAnaemia: {
    // Macrocytic and megaloblastic anaemia; D53.1 other megaloblastic anaemias, D52 folate deficiency anaemia.
    snomed: new Set(['83414005', '53165003']),
    icd10Prefixes: ['D531', 'D52'],
    icd10Excluded: [],
    textPattern: /macrocytic an(a)?emia|megaloblastic/i,
  },
  pregnancy: {
    snomed: new Set(['77386006', '72892002']),
    icd10Prefixes: ['Z331', 'Z34', 'O09'],
    icd10Excluded: [],
    textPattern: /\bpregnan(t|cy)\b/i,
  },
};

/** Codes whose meaning already says the pain is chronic (no onset date needed). */
export const CHRONIC_BY_CODE = {
  snomed: new Set([
    '278860009',
    '134407002',
    '1121000119107',
    '82423001',
    '373621006',
    '202725007',
    '202723000',
  ]),
  icd10Prefixes: ['G8929', 'G894', 'M961'],
} as const;

/** Acute low back pain: never counts towards "chronic" back pain, whatever its onset. */
export const ACUTE_BACK_PAIN_SNOMED: ReadonlySet<string> = new Set(['278862001']);

export const SPINE_SURGERY = {
  snomed: new Set([
    '55705006',
    '50172003',
    '34238000',
    '277764006',
    '25789004',
    '448942003',
    '449048009',
    '448943008',
    '448944002',
    '81099000',
    '59703009',
    '53976000',
    '387731002',
    '445429009',
    '427752004',
    '282191000',
    '3418002',
    '89355001',
    '10836008',
    '708651002',
    '392236004',
  ]),
  cpt: new Set([
    '22551',
    '22600',
    '22610',
    '22612',
    '22614',
    '22630',
    '22633',
    '22800',
    '22802',
    '22867',
    '63001',
    '63015',
    '63030',
    '63035',
    '63040',
    '63043',
    '63045',
    '63047',
    '63050',
    '63051',
  ]),
  /** Inclusive CPT ranges for spine arthrodesis, disc arthroplasty/devices and spinal decompression. */
  cptRanges: [
    [22532, 22819],
    [22856, 22867],
    [63001, 63091],
    [62380, 62380],
  ],
} as const;

export type DrugClass = 'metformin' | 'ppi' | 'h2Blocker' | 'vitaminD' | 'b12Replacement' | 'folicAcid';

/** RxNorm ingredient, product and brand codes per drug class. */
export const DRUG_RXNORM: Readonly<Record<DrugClass, ReadonlySet<string>>> = {
  // 1169923 (ActoPlus Met) and 1043582 (Kombiglyze XR) as the SMART sample patients code them.
  metformin: new Set([
    '6809',
    '861007',
    '861010',
    '861004',
    '860975',
    '860981',
    '153592',
    '1169923',
    '1043582',
  ]),
  ppi: new Set([
    '7646',
    '236486',
    '283742',
    '283562',
    '17128',
    '40790',
    '253191',
    '114979',
    '226868',
    '816346',
    '199119',
    '198051',
    '200329',
    '402014',
    '207212',
    '213295',
    '606726',
    '606730',
    '606728',
    '606731',
    '596843',
    '311277',
    '251872',
    '314200',
    '283669',
    '284400',
    '854868',
    '833204',
    '833213',
    '902624',
    '902626',
  ]),
  h2Blocker: new Set(['4278', '2541', '42319', '9143', '197505', '197506', '197507', '197508']),
  vitaminD: new Set(['1367410', '2418']),
  b12Replacement: new Set(['309594', '317106', '2001499', '11248']),
  folicAcid: new Set(['310410', '4511']),
};

/** Name fallback for medications with no matching RxNorm coding; combination products match too. */
export const DRUG_TEXT: Readonly<Record<DrugClass, RegExp>> = {
  metformin:
    /\bmetformin\b|\b(janumet|jentadueto|kazano|kombiglyze|invokamet|synjardy|xigduo|segluromet|qternmet|trijardy|actoplus ?met|glucovance|metaglip|avandamet|prandimet|glucophage|glumetza|fortamet|riomet)\b/i,
  ppi: /\b(es|dex)?(omeprazole|lansoprazole)\b|pantoprazole|rabeprazole|\b(prilosec|nexium|prevacid|dexilant|protonix|aciphex|zegerid|vimovo|yosprala|talicia|konvomep|omeclamox|prevpac)\b/i,
  h2Blocker: /famotidine|cimetidine|nizatidine|ranitidine|\b(pepcid|tagamet|axid|zantac|duexis)\b/i,
  vitaminD:
    /ergocalciferol|cholecalciferol|colecalciferol|\bcalciferol\b|\bvitamin[\s-]d\s?[23]?\b|\bvit\.? d\s?[23]?\b|^\s*d-?[23]\b|^\s*d\s3\s+\d[\d,.]*\s*(?:iu|unt|units?|mcg|µg|μg|ug)\b|\+\s*d-?[23]\b|(?<!\bd\d{1,2}\s*[-,/&]\s*|\bunits?\s+|\bu\s+)\bd-?3\b(?!\s*(?:units?|u)\b)|\b(?:drisdol|decara|replesta|dekristol|ddrops|d-vi-sol)\b/i,
  b12Replacement:
    /cyanocobalamin|hydroxocobalamin|methylcobalamin|\bvit(?:amin)?\.?\s*b[\s-]?12\b|\b(?:vit\.?\s*)?b-?12\b|\bb\s12\s*(?:\d[\d,.]*\s*(?:mcg|µg|ug|mg)\b|shots?\b|inj|sl\b|sublingual|im\b)|\b(nascobal|cyanokit|calomist|foltx|folbee|folbic|metanx|ener-?b)\b/i,
  folicAcid:
    /folic acid|\bfolate\b|methylfolate|folvite|\b(?:deplin|folgard|folbic)\b|\bvit(?:amin)?\.?\s*b-?9\b/i,
};

/**
 * Vitamin D products as the rules tell them apart. Repletion strength (50,000 IU however written, the
 * ergocalciferol 1.25 mg capsule, Drisdol) marks the course that answers a low result (rule VD); the
 * ingredient (D2 or D3) is the "same product" of change 3. Names on records vary ("Vitamin D3 1000 IU daily",
 * "cholecalciferol 25 MCG Oral Tablet"), so a renewal under another name is still the same product.
 */
export const VITAMIN_D_PRODUCTS: Readonly<
  Record<'repletion' | 'ergocalciferol' | 'cholecalciferol', { rxnorm: readonly string[]; name: RegExp }>
> = {
  repletion: {
    rxnorm: ['1367410'],
    name: /\b50[,.\s]?000(?!\d)|\b50\s?k\b|\b1[.,]25\s?mg\b|\b1,?250\s?(?:mcg|µg|μg|ug)\b|\bdrisdol\b/i,
  },
  ergocalciferol: { rxnorm: ['1367410'], name: /ergocalciferol|drisdol|\bvitamin d2\b/i },
  cholecalciferol: { rxnorm: ['2418'], name: /cholecalciferol|colecalciferol|\bvitamin d3\b/i },
};

/**
 * Active vitamin D and its analogues (calcitriol, paricalcitol, doxercalciferol, alfacalcidol, calcifediol,
 * calcipotriol) are hormones given in kidney disease or for the skin, not the vitamin D therapy of rule VD,
 * however their names mention vitamin D; so are the dopamine D2/D3 agonists.
 */
export const NOT_VITAMIN_D_THERAPY =
  /calcitriol|paricalcitol|doxercalciferol|alfacalcidol|calcifediol|calcipot|dihydroxy|alpha-?hydroxy|(?:vitamin[\s-]d\d?|\bd[23]?)\s+analog|\banalog\w*\s+of\s+vitamin|rocaltrol|zemplar|hectorol|rayaldee|one-?alpha|dovonex|\bd2\s*\/\s*d3\b|dopamin/i;

/** The drug classes that lower B12 absorption, with the words card details use for them. */
export const B12_LOWERING_DRUGS: Readonly<Record<'metformin' | 'ppi' | 'h2Blocker', string>> = {
  metformin: 'metformin',
  ppi: 'proton-pump inhibitor',
  h2Blocker: 'H2 blocker',
};

/** The same, short enough for a card summary. */
export const B12_LOWERING_DRUGS_SHORT: Readonly<Record<keyof typeof B12_LOWERING_DRUGS, string>> = {
  metformin: 'metformin',
  ppi: 'PPI',
  h2Blocker: 'H2 blocker',
};
