-- Every raw appointments row (all versions) typed by the contract, with quarantine/warning flags.
{{ base_crm_model('appointments') }}
