-- Every raw promo_activations row (all versions) typed by the contract, with quarantine/warning flags.
{{ base_crm_model('promo_activations') }}
