"""The English names of the portal's standard request categories, by service code.

The seed (``seed/demo.py``) and the data migration ``0007_category_english_names`` fill
``Category.name_en`` from this table where it is empty; an administrator may change any of
them in the admin, and a category the table does not know shows its Chinese name until then.
"""

NAMES_EN = {
    "property": "Property services",
    "property-elevator": "Lift breakdown",
    "property-utilities": "Water and power repairs",
    "property-security": "Access control and security",
    "property-fees": "Property fees",
    "sanitation": "Sanitation",
    "sanitation-garbage": "Rubbish collection",
    "sanitation-sorting": "Waste sorting",
    "sanitation-greening": "Green space upkeep",
    "sanitation-pests": "Pests and rodents",
    "parking": "Parking",
    "parking-illegal": "Illegal parking",
    "parking-charging": "E-bike charging",
    "parking-spaces": "Parking spaces",
    "repair": "Facility repairs",
    "repair-streetlight": "Broken street light",
    "repair-road": "Damaged road",
    "repair-drain": "Blocked drain",
    "repair-fitness": "Fitness equipment",
    "dispute": "Neighbour disputes",
    "dispute-noise": "Noise",
    "dispute-leak": "Leak from upstairs",
    "dispute-pets": "Pets",
    "elderly-care": "Elderly and disability care",
    "elderly-meals": "Meal service",
    "elderly-visits": "Care visits",
    "elderly-accessibility": "Accessibility",
    "policy": "Policy enquiries",
    "policy-insurance": "Social and medical insurance",
    "policy-certificates": "Certificates",
    "policy-assistance": "Assistance and relief",
    "other": "Other",
    "other-suggestion": "Suggestions",
    "other-misc": "Other requests",
    "personal-info": "Personal information",
    "personal-info-correction": "Correct personal information",
    "personal-info-deletion": "Delete personal information",
}
