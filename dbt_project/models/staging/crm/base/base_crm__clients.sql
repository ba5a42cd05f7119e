-- Every raw clients row (all versions) typed by the contract, with quarantine/warning flags.
{{ base_crm_model('clients') }}
