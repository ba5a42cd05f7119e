-- Every raw sms_messages row (all versions) typed by the contract, with quarantine/warning flags.
{{ base_crm_model('sms_messages') }}
