/**
 * The vocabulary a generated world is built from: a home-improvement catalogue (departments →
 * categories → leaf product types), fictional brands per department, and per leaf the nouns that name
 * its products, the attribute dimensions that tell them apart and the leaves that complement it.
 *
 * It is shaped so that lexical matching is informative but misleading in the ways real catalogues
 * are: accessories share their main product's noun ("drill" / "drill bit set", "grill" / "grill
 * cover"), several leaves share generic nouns ("faucet", "paint", "fan", "switch"), and synonyms
 * ("weed eater" / "string trimmer", "fridge" / "refrigerator") appear in queries but not in every title.
 */

export interface LeafSpec {
  /** [department, category, leaf]. */
  readonly path: readonly [string, string, string];
  /** Names of the product type; the first is the usual one. Titles use one, queries any. */
  readonly nouns: readonly string[];
  /** Attribute dimension → values; a product takes one value per dimension. */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  /** Leaves (by leaf name) whose products complement this one: partly relevant to its queries. */
  readonly related?: readonly string[];
  /** Typical price range in currency units. */
  readonly price: readonly [number, number];
  /** Optional trailing words of titles ("Kit", "(2-Pack)"). */
  readonly extras?: readonly string[];
}

export interface DepartmentSpec {
  readonly name: string;
  readonly brands: readonly string[];
}

const finish = ['Chrome', 'Brushed Nickel', 'Matte Black', 'Oil Rubbed Bronze'];
const applianceFinish = ['Stainless Steel', 'Black', 'White'];
const paintColor = ['White', 'Gray', 'Beige', 'Navy Blue', 'Sage Green'];
const voltage = ['12V', '18V', '20V'];
const powerSource = ['Cordless', 'Corded'];
const floorColor = ['Natural Oak', 'Gray Oak', 'Hickory', 'Walnut'];

export const departments: readonly DepartmentSpec[] = [
  { name: 'Tools', brands: ['Voltara', 'Ironclad', 'Hartmann', 'Ridgeway', 'Stanwell'] },
  { name: 'Paint', brands: ['Everhome', 'Colorvale', 'Brightline', 'Northfield'] },
  { name: 'Bath', brands: ['AquaPure', 'Copperline', 'Everhome', 'Marlow'] },
  { name: 'Kitchen', brands: ['Copperline', 'Frostline', 'Hartmann', 'Marlow', 'Everhome'] },
  { name: 'Outdoors', brands: ['Greenfield', 'Ironclad', 'Voltara', 'Ridgeway'] },
  { name: 'Lighting & Electrical', brands: ['Lumina', 'Brightline', 'Voltara', 'Northfield'] },
  { name: 'Flooring', brands: ['Northfield', 'Oakmont', 'Everhome'] },
  { name: 'Storage & Doors', brands: ['Ironclad', 'Oakmont', 'Marlow', 'Stanwell'] },
];

export const leaves: readonly LeafSpec[] = [
  // Tools
  {
    path: ['Tools', 'Power Tools', 'Drills'],
    nouns: ['drill', 'drill driver', 'power drill'],
    attributes: { voltage, power_source: powerSource },
    related: ['Drill Bits', 'Tool Batteries'],
    price: [49, 249],
    extras: ['Kit', 'Bare Tool', 'with Battery and Charger'],
  },
  {
    path: ['Tools', 'Power Tools', 'Impact Drivers'],
    nouns: ['impact driver', 'impact drill'],
    attributes: { voltage },
    related: ['Tool Batteries', 'Drill Bits'],
    price: [79, 229],
    extras: ['Kit', 'Bare Tool'],
  },
  {
    path: ['Tools', 'Power Tools', 'Circular Saws'],
    nouns: ['circular saw', 'saw'],
    attributes: { blade_size: ['6-1/2 in.', '7-1/4 in.'], power_source: powerSource },
    related: ['Saw Blades'],
    price: [59, 229],
    extras: ['Kit', 'with Case'],
  },
  {
    path: ['Tools', 'Power Tools', 'Sanders'],
    nouns: ['orbital sander', 'sander', 'random orbit sander'],
    attributes: { power_source: powerSource },
    related: ['Sandpaper'],
    price: [39, 129],
  },
  {
    path: ['Tools', 'Hand Tools', 'Hammers'],
    nouns: ['hammer', 'claw hammer', 'framing hammer'],
    attributes: { weight: ['16 oz.', '20 oz.', '22 oz.'], handle: ['Fiberglass', 'Steel', 'Wood'] },
    price: [12, 49],
  },
  {
    path: ['Tools', 'Hand Tools', 'Screwdrivers'],
    nouns: ['screwdriver set', 'screwdriver'],
    attributes: { pieces: ['6-Piece', '10-Piece', '20-Piece'] },
    price: [10, 59],
  },
  {
    path: ['Tools', 'Hand Tools', 'Wrenches'],
    nouns: ['wrench set', 'socket set', 'wrench'],
    attributes: { standard: ['SAE', 'Metric'], pieces: ['12-Piece', '40-Piece', '86-Piece'] },
    price: [19, 149],
  },
  {
    path: ['Tools', 'Tool Accessories', 'Drill Bits'],
    nouns: ['drill bit set', 'drill bits'],
    attributes: { material: ['Titanium', 'Cobalt', 'Black Oxide'], pieces: ['14-Piece', '21-Piece', '29-Piece'] },
    related: ['Drills', 'Impact Drivers'],
    price: [9, 69],
  },
  {
    path: ['Tools', 'Tool Accessories', 'Saw Blades'],
    nouns: ['circular saw blade', 'saw blade'],
    attributes: { teeth: ['24-Tooth', '40-Tooth', '60-Tooth'], blade_size: ['6-1/2 in.', '7-1/4 in.'] },
    related: ['Circular Saws'],
    price: [9, 49],
    extras: ['(2-Pack)'],
  },
  {
    path: ['Tools', 'Tool Accessories', 'Tool Batteries'],
    nouns: ['battery', 'battery pack', 'drill battery'],
    attributes: { voltage, capacity: ['2.0Ah', '4.0Ah', '5.0Ah'] },
    related: ['Drills', 'Impact Drivers'],
    price: [49, 179],
    extras: ['(2-Pack)', 'with Charger'],
  },
  {
    path: ['Tools', 'Tool Accessories', 'Sandpaper'],
    nouns: ['sandpaper', 'sanding sheets', 'sanding discs'],
    attributes: { grit: ['80 Grit', '120 Grit', '220 Grit'] },
    related: ['Sanders'],
    price: [5, 25],
    extras: ['(25-Pack)', '(50-Pack)'],
  },
  // Paint
  {
    path: ['Paint', 'Paint', 'Interior Paint'],
    nouns: ['interior paint', 'paint', 'wall paint'],
    attributes: {
      finish: ['Flat', 'Eggshell', 'Satin', 'Semi-Gloss'],
      color: paintColor,
      size: ['1 gal.', '5 gal.'],
    },
    related: ['Paint Brushes', 'Paint Rollers', 'Painters Tape', 'Primer'],
    price: [29, 189],
  },
  {
    path: ['Paint', 'Paint', 'Exterior Paint'],
    nouns: ['exterior paint', 'paint', 'house paint'],
    attributes: { finish: ['Flat', 'Satin', 'Semi-Gloss'], color: paintColor, size: ['1 gal.', '5 gal.'] },
    related: ['Paint Brushes', 'Paint Rollers', 'Primer'],
    price: [35, 249],
  },
  {
    path: ['Paint', 'Paint', 'Primer'],
    nouns: ['primer', 'paint primer'],
    attributes: { size: ['1 qt.', '1 gal.', '5 gal.'] },
    related: ['Interior Paint', 'Exterior Paint'],
    price: [12, 149],
  },
  {
    path: ['Paint', 'Painting Supplies', 'Paint Brushes'],
    nouns: ['paint brush', 'brush'],
    attributes: { width: ['1 in.', '2 in.', '3 in.'], bristle: ['Nylon', 'Polyester', 'Natural'] },
    related: ['Interior Paint', 'Exterior Paint'],
    price: [4, 24],
    extras: ['(3-Pack)'],
  },
  {
    path: ['Paint', 'Painting Supplies', 'Paint Rollers'],
    nouns: ['paint roller', 'roller', 'roller cover'],
    attributes: { nap: ['3/8 in.', '1/2 in.', '3/4 in.'], width: ['4 in.', '9 in.'] },
    related: ['Interior Paint', 'Exterior Paint'],
    price: [5, 29],
    extras: ['(3-Pack)', 'Kit'],
  },
  {
    path: ['Paint', 'Painting Supplies', 'Painters Tape'],
    nouns: ["painter's tape", 'masking tape', 'tape'],
    attributes: { width: ['0.94 in.', '1.41 in.', '1.88 in.'] },
    related: ['Interior Paint'],
    price: [4, 15],
    extras: ['(3-Pack)'],
  },
  // Bath
  {
    path: ['Bath', 'Bathroom', 'Shower Heads'],
    nouns: ['shower head', 'showerhead', 'rain shower head'],
    attributes: { finish, style: ['Rain', 'Handheld', 'Fixed'] },
    price: [19, 199],
  },
  {
    path: ['Bath', 'Bathroom', 'Bathroom Faucets'],
    nouns: ['bathroom faucet', 'bathroom sink faucet', 'faucet'],
    attributes: { finish, handles: ['Single-Handle', '2-Handle'] },
    price: [39, 249],
  },
  {
    path: ['Bath', 'Bathroom', 'Toilets'],
    nouns: ['toilet', 'commode'],
    attributes: { bowl: ['Elongated', 'Round'], build: ['One-Piece', 'Two-Piece'] },
    related: ['Toilet Seats'],
    price: [99, 499],
  },
  {
    path: ['Bath', 'Bathroom', 'Toilet Seats'],
    nouns: ['toilet seat'],
    attributes: { bowl: ['Elongated', 'Round'], material: ['Plastic', 'Wood'] },
    related: ['Toilets'],
    price: [15, 69],
  },
  {
    path: ['Bath', 'Bath Accessories', 'Shower Curtains'],
    nouns: ['shower curtain', 'curtain'],
    attributes: { color: ['White', 'Gray', 'Navy Blue'], material: ['Polyester', 'Cotton'] },
    price: [12, 49],
  },
  // Kitchen
  {
    path: ['Kitchen', 'Kitchen Fixtures', 'Kitchen Faucets'],
    nouns: ['kitchen faucet', 'faucet', 'kitchen sink faucet'],
    attributes: { finish, style: ['Pull-Down', 'Pull-Out', 'Single-Handle'] },
    price: [59, 399],
  },
  {
    path: ['Kitchen', 'Kitchen Fixtures', 'Garbage Disposals'],
    nouns: ['garbage disposal', 'disposer', 'food waste disposer'],
    attributes: { power: ['1/3 HP', '1/2 HP', '3/4 HP'] },
    price: [79, 349],
  },
  {
    path: ['Kitchen', 'Appliances', 'Microwaves'],
    nouns: ['microwave', 'microwave oven'],
    attributes: {
      mount: ['Over the Range', 'Countertop'],
      finish: applianceFinish,
      capacity: ['1.1 cu. ft.', '1.6 cu. ft.', '2.0 cu. ft.'],
    },
    price: [89, 499],
  },
  {
    path: ['Kitchen', 'Appliances', 'Refrigerators'],
    nouns: ['refrigerator', 'fridge'],
    attributes: { style: ['French Door', 'Side by Side', 'Top Freezer'], finish: applianceFinish },
    price: [699, 2999],
  },
  {
    path: ['Kitchen', 'Appliances', 'Dishwashers'],
    nouns: ['dishwasher'],
    attributes: { finish: applianceFinish, width: ['18 in.', '24 in.'] },
    price: [399, 1199],
  },
  // Outdoors
  {
    path: ['Outdoors', 'Outdoor Power Equipment', 'Lawn Mowers'],
    nouns: ['lawn mower', 'mower', 'push mower'],
    attributes: {
      power_source: ['Gas', 'Electric', 'Cordless'],
      drive: ['Self-Propelled', 'Push'],
      deck: ['20 in.', '21 in.', '22 in.'],
    },
    related: ['Mower Blades'],
    price: [179, 599],
  },
  {
    path: ['Outdoors', 'Outdoor Power Equipment', 'Mower Blades'],
    nouns: ['lawn mower blade', 'mower blade'],
    attributes: { deck: ['20 in.', '21 in.', '22 in.'] },
    related: ['Lawn Mowers'],
    price: [15, 39],
  },
  {
    path: ['Outdoors', 'Outdoor Power Equipment', 'String Trimmers'],
    nouns: ['string trimmer', 'weed eater', 'trimmer'],
    attributes: { power_source: ['Gas', 'Electric', 'Cordless'] },
    price: [69, 249],
  },
  {
    path: ['Outdoors', 'Garden', 'Garden Hoses'],
    nouns: ['garden hose', 'hose'],
    attributes: { length: ['25 ft.', '50 ft.', '100 ft.'], material: ['Rubber', 'Vinyl', 'Expandable'] },
    related: ['Hose Nozzles'],
    price: [19, 79],
  },
  {
    path: ['Outdoors', 'Garden', 'Hose Nozzles'],
    nouns: ['hose nozzle', 'spray nozzle'],
    attributes: { patterns: ['7-Pattern', '10-Pattern'] },
    related: ['Garden Hoses'],
    price: [6, 25],
  },
  {
    path: ['Outdoors', 'Outdoor Cooking', 'Grills'],
    nouns: ['gas grill', 'grill', 'bbq grill'],
    attributes: { burners: ['2-Burner', '3-Burner', '4-Burner'], fuel: ['Propane', 'Natural Gas', 'Charcoal'] },
    related: ['Grill Covers'],
    price: [149, 899],
  },
  {
    path: ['Outdoors', 'Outdoor Cooking', 'Grill Covers'],
    nouns: ['grill cover'],
    attributes: { size: ['58 in.', '65 in.'] },
    related: ['Grills'],
    price: [19, 59],
  },
  // Lighting & Electrical
  {
    path: ['Lighting & Electrical', 'Lighting', 'Ceiling Fans'],
    nouns: ['ceiling fan', 'fan'],
    attributes: { size: ['44 in.', '52 in.', '60 in.'], light: ['with Light Kit', 'without Light'], finish },
    related: ['Light Bulbs'],
    price: [59, 349],
  },
  {
    path: ['Lighting & Electrical', 'Lighting', 'Light Bulbs'],
    nouns: ['led light bulb', 'light bulb', 'bulb'],
    attributes: {
      wattage: ['40W Equivalent', '60W Equivalent', '100W Equivalent'],
      color: ['Soft White', 'Daylight'],
      pack: ['4-Pack', '6-Pack', '12-Pack'],
    },
    price: [5, 39],
  },
  {
    path: ['Lighting & Electrical', 'Lighting', 'Flush Mount Lights'],
    nouns: ['flush mount light', 'ceiling light', 'light fixture'],
    attributes: { finish },
    related: ['Light Bulbs'],
    price: [19, 149],
  },
  {
    path: ['Lighting & Electrical', 'Lighting', 'Outdoor Wall Lights'],
    nouns: ['outdoor wall light', 'porch light', 'wall lantern'],
    attributes: { finish },
    related: ['Light Bulbs'],
    price: [19, 129],
  },
  {
    path: ['Lighting & Electrical', 'Electrical', 'Extension Cords'],
    nouns: ['extension cord', 'cord'],
    attributes: { length: ['25 ft.', '50 ft.', '100 ft.'], rating: ['Indoor', 'Outdoor'] },
    price: [9, 59],
  },
  {
    path: ['Lighting & Electrical', 'Electrical', 'Light Switches'],
    nouns: ['light switch', 'switch', 'dimmer switch'],
    attributes: { type: ['Toggle', 'Rocker', 'Dimmer'], color: ['White', 'Ivory'] },
    price: [3, 39],
    extras: ['(10-Pack)'],
  },
  {
    path: ['Lighting & Electrical', 'Electrical', 'Outlets'],
    nouns: ['outlet', 'electrical outlet', 'receptacle'],
    attributes: { type: ['GFCI', 'USB', 'Tamper Resistant'], color: ['White', 'Ivory'] },
    price: [3, 39],
    extras: ['(10-Pack)'],
  },
  // Flooring
  {
    path: ['Flooring', 'Flooring', 'Vinyl Plank Flooring'],
    nouns: ['vinyl plank flooring', 'vinyl flooring', 'lvp flooring'],
    attributes: { color: floorColor, thickness: ['4 mm', '6 mm', '8 mm'] },
    related: ['Underlayment'],
    price: [29, 89],
  },
  {
    path: ['Flooring', 'Flooring', 'Laminate Flooring'],
    nouns: ['laminate flooring', 'laminate'],
    attributes: { color: floorColor, thickness: ['8 mm', '10 mm', '12 mm'] },
    related: ['Underlayment'],
    price: [25, 79],
  },
  {
    path: ['Flooring', 'Flooring', 'Tile'],
    nouns: ['porcelain tile', 'ceramic tile', 'floor tile'],
    attributes: { size: ['12 in. x 12 in.', '12 in. x 24 in.'], color: ['White', 'Gray', 'Beige'] },
    price: [1, 9],
  },
  {
    path: ['Flooring', 'Flooring Supplies', 'Underlayment'],
    nouns: ['flooring underlayment', 'underlayment'],
    attributes: { thickness: ['2 mm', '3 mm'] },
    related: ['Vinyl Plank Flooring', 'Laminate Flooring'],
    price: [19, 69],
  },
  // Storage & Doors
  {
    path: ['Storage & Doors', 'Storage', 'Garage Shelving'],
    nouns: ['garage shelving', 'storage shelf', 'shelving unit'],
    attributes: { tiers: ['4-Tier', '5-Tier'], material: ['Steel', 'Plastic'] },
    price: [39, 199],
  },
  {
    path: ['Storage & Doors', 'Storage', 'Tool Chests'],
    nouns: ['tool chest', 'tool box', 'tool storage'],
    attributes: { drawers: ['5-Drawer', '9-Drawer', '12-Drawer'], width: ['26 in.', '41 in.'] },
    price: [49, 599],
  },
  {
    path: ['Storage & Doors', 'Doors & Windows', 'Window Blinds'],
    nouns: ['window blinds', 'blinds'],
    attributes: {
      material: ['Faux Wood', 'Vinyl', 'Aluminum'],
      width: ['23 in.', '35 in.', '47 in.'],
      lift: ['Cordless', 'Corded'],
    },
    price: [12, 79],
  },
  {
    path: ['Storage & Doors', 'Doors & Windows', 'Door Knobs'],
    nouns: ['door knob', 'door handle', 'doorknob'],
    attributes: { function: ['Privacy', 'Passage', 'Keyed Entry'], finish },
    related: ['Deadbolts'],
    price: [12, 59],
  },
  {
    path: ['Storage & Doors', 'Doors & Windows', 'Deadbolts'],
    nouns: ['deadbolt', 'door lock', 'smart lock'],
    attributes: { finish, type: ['Single Cylinder', 'Keypad'] },
    related: ['Door Knobs'],
    price: [19, 249],
  },
];

/** Product-line names that brands put in titles: tokens that say nothing about the product type. */
export const seriesNames = ['Pro', 'Max', 'Select', 'Classic', 'Elite', 'Essentials', 'Ultra', 'Plus'] as const;
