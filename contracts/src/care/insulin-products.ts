import { z } from 'zod';

/**
 * The insulins the record knows, by code (docs/clinical/reference.md section 2, "Insulin products").
 * A dose names its product by Tandem's code or by the exact product name (spacing and case aside);
 * either way the stored dose carries the code, so the possible-duplicate and minimum-interval checks
 * compare codes, never free text ("Humalog?? maybe" is not a second name for anything).
 *
 * dm+d (NHS Dictionary of medicines and devices) identifies each product as an AMP (the branded
 * product) under a VMP (the generic). The codes below have NOT been checked against a dm+d release
 * here: each says so (`dmdStatus: 'UNVERIFIED'`) and carries no dm+d number, rather than one that
 * looks right. A deployment fills `vmp`/`amp` from the NHSBSA dm+d browser or TRUD release and sets
 * `dmdStatus: 'verified'`; the Tandem code stays the same, so no stored dose changes.
 */

export const DMD_SYSTEM = 'https://dmd.nhs.uk';
/** Tandem's own code system for the table below (stable: stored doses carry these codes). */
export const INSULIN_PRODUCT_SYSTEM = 'https://tandem.example.org/CodeSystem/insulin-product';

export interface InsulinProduct {
  /** Tandem's code, stored with every dose. */
  readonly code: string;
  /** As written on the pen, the instruction and the Insulin Passport. */
  readonly name: string;
  readonly insulin: string;
  readonly action: 'rapid-acting' | 'short-acting' | 'intermediate-acting' | 'long-acting' | 'biphasic';
  readonly device: 'pen';
  /** The dm+d VMP and AMP codes, when checked against a dm+d release; null until then. */
  readonly vmp: string | null;
  readonly amp: string | null;
  readonly dmdStatus: 'verified' | 'UNVERIFIED';
  /** Where the name and device come from. */
  readonly source: string;
}

const SPC = 'the product name and pen as on the manufacturer\'s SmPC (electronic medicines compendium)';

export const INSULIN_PRODUCTS: readonly InsulinProduct[] = [
  { code: 'humulin-i-kwikpen', name: 'Humulin I KwikPen', insulin: 'isophane human insulin', action: 'intermediate-acting', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'humulin-m3-kwikpen', name: 'Humulin M3 KwikPen', insulin: 'biphasic isophane human insulin 30/70', action: 'biphasic', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'humalog-kwikpen', name: 'Humalog KwikPen', insulin: 'insulin lispro 100 units/ml', action: 'rapid-acting', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'novorapid-flexpen', name: 'NovoRapid FlexPen', insulin: 'insulin aspart', action: 'rapid-acting', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'novomix-30-flexpen', name: 'NovoMix 30 FlexPen', insulin: 'biphasic insulin aspart 30/70', action: 'biphasic', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'lantus-solostar', name: 'Lantus SoloStar', insulin: 'insulin glargine 100 units/ml', action: 'long-acting', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'abasaglar-kwikpen', name: 'Abasaglar KwikPen', insulin: 'insulin glargine 100 units/ml', action: 'long-acting', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
  { code: 'levemir-flexpen', name: 'Levemir FlexPen', insulin: 'insulin detemir', action: 'long-acting', device: 'pen', vmp: null, amp: null, dmdStatus: 'UNVERIFIED', source: SPC },
];

const normalised = (text: string): string => text.trim().replace(/\s+/g, ' ').toLowerCase();

/** The product a dose or an instruction names, by Tandem code or by name; undefined when the record does not know it. */
export const insulinProductOf = (product: string): InsulinProduct | undefined => {
  const key = normalised(product);
  return INSULIN_PRODUCTS.find((p) => p.code === key || normalised(p.name) === key);
};

export const InsulinProductCodeSchema = z.enum(INSULIN_PRODUCTS.map((p) => p.code) as [string, ...string[]], {
  error: `must be one of the insulin product codes: ${INSULIN_PRODUCTS.map((p) => p.code).join(', ')}`,
});
