-- Every raw promo_codes row (all versions) typed by the contract, with quarantine/warning flags.
{{ base_crm_model('promo_codes') }}
