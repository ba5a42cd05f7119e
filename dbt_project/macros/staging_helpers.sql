{#- UTC instant of a parsed timestamp column: its own offset when the text had one, else the
    wall-clock time read in tz (raw-extracts.md, Value formats). -#}
{% macro utc_timestamp(column, tz) -%}
    case
        when {{ column }}_offset_minutes is null then {{ local_to_utc(column, tz) }}
        else {{ dbt.dateadd('minute', '-' ~ column ~ '_offset_minutes', column) }}
    end
{%- endmacro %}

{#- Local time at tz: the wall-clock text itself, or the offset-bearing instant converted. -#}
{% macro local_timestamp(column, tz) -%}
    case
        when {{ column }}_offset_minutes is null then {{ column }}
        else {{ utc_to_local(dbt.dateadd('minute', '-' ~ column ~ '_offset_minutes', column), tz) }}
    end
{%- endmacro %}

{#- The current version of every key of a relation of valid rows (which carries a `timezone`
    column): the greatest updated_at in absolute time, then the later file (lexical), then the
    later row; a current version with is_deleted true removes the key (raw-extracts.md,
    Versions of a row). Adds updated_at_utc. `tz` overrides the zone of offset-less updated_at
    (locations: UTC).
    Most keys have one version: only the keys with several go through the window, which
    would otherwise sort every row with all its columns (about half the model's time).
    The relation is read three times, so its CTE should be declared {{ inlined_cte() }}. -#}
{% macro current_versions(relation, key, tz='timezone') -%}
    with versioned_keys as (
        select {{ key }} from {{ relation }} group by {{ key }} having count(*) > 1
    )

    select
        versions.*,
        1 as version_rank
    from (
        select
            *,
            {{ utc_timestamp('updated_at', tz) }} as updated_at_utc
        from {{ relation }}
    ) as versions
    left join versioned_keys on versions.{{ key }} = versioned_keys.{{ key }}
    where versioned_keys.{{ key }} is null and not coalesce(versions.is_deleted, false)

    union all

    select ranked.*
    from (
        select
            versions.*,
            row_number() over (
                partition by versions.{{ key }}
                order by
                    versions.updated_at_utc desc,
                    versions._source_file desc,
                    versions._row_number desc
            ) as version_rank
        from (
            select
                *,
                {{ utc_timestamp('updated_at', tz) }} as updated_at_utc
            from {{ relation }}
        ) as versions
        inner join versioned_keys on versions.{{ key }} = versioned_keys.{{ key }}
    ) as ranked
    where ranked.version_rank = 1 and not coalesce(ranked.is_deleted, false)
{%- endmacro %}

{% macro default_timezone() -%}
    '{{ var("default_timezone") }}'
{%- endmacro %}

{#- Digits of a phone when they form a valid number (Chain clients), else null. -#}
{% macro normalize_phone(text) -%}
{% set non_digits %}[^0-9]{% endset %}
{%- set digits = regex_replace_all(text, non_digits, '') -%}
    case
        when length({{ digits }}) = 11 and {{ digits }} like '8%'
            then '7' || substr({{ digits }}, 2)
        when length({{ digits }}) = 10
            then '{{ var("default_country_code") }}' || {{ digits }}
        when length({{ digits }}) between 11 and 15
            then {{ digits }}
    end
{%- endmacro %}

{#- Trimmed, lower-cased email when it has one @ with text on both sides and a dot in the
    domain, else null. -#}
{% macro normalize_email(text) -%}
{% set email %}[^@]+@[^@]*\.[^@]*{% endset %}
    case when {{ regex_full_match('lower(' ~ text ~ ')', email) }} then lower({{ text }}) end
{%- endmacro %}

{% macro normalize_gender(text) -%}
    case
        when lower({{ text }}) in ('male', 'm', 'м', 'муж') then 'male'
        when lower({{ text }}) in ('female', 'f', 'ж', 'жен') then 'female'
        else 'unknown'
    end
{%- endmacro %}

{% macro normalize_importance(text) -%}
    case
        when lower({{ text }}) in ('none', 'bronze', 'silver', 'gold') then lower({{ text }})
        else 'none'
    end
{%- endmacro %}

{#- lower-case; every run of characters other than letters and digits becomes '_';
    leading/trailing '_' dropped ('AI activity' -> 'ai_activity'). -#}
{% macro normalize_activity_type(text) -%}
{% set non_alnum %}[^\p{L}\p{N}]+{% endset %}
{% set edge_underscores %}^_+|_+${% endset %}
    {{ regex_replace_all(regex_replace_all('lower(' ~ text ~ ')', non_alnum, '_'), edge_underscores, '') }}
{%- endmacro %}

{#- Valid (not quarantined) rows of a base model with the time zone of their location: the
    current location's zone, or the configured default when the location is unknown or
    deleted (the row still loads). With a key and scope: in an incremental build, only the
    rows whose key is in that changed scope. -#}
{% macro valid_rows_with_location_timezone(base_model, key=none, scope=none) -%}
    select
        base_rows.*,
        coalesce(locations.timezone, {{ default_timezone() }}) as timezone
    from {{ ref(base_model) }} as base_rows
    left join {{ ref('stg_crm__locations') }} as locations
        on base_rows.location_id = locations.location_id
    where base_rows._is_valid
    {%- if scope %}{{ scope_filter([['base_rows.' ~ key, scope]]) }}{% endif %}
{%- endmacro %}

{#- A client record's chain-client identity (raw-extracts.md, Chain clients): its phone when
    that normalises to a valid number, else its valid email, else the record itself. -#}
{% macro chain_identity_key(phone_digits, email_normalized, client_id) -%}
    case
        when {{ phone_digits }} is not null then 'phone:' || {{ phone_digits }}
        when {{ email_normalized }} is not null then 'email:' || {{ email_normalized }}
        else 'client:' || {{ client_id }}
    end
{%- endmacro %}

{#- The chain client of a fact's client_id (raw-extracts.md, Chain clients): that of its current
    client record (`records`, int_clients_keyed joined on client_id), else the key
    client:<client_id> of an id without one (never sent, deleted, quarantined); null for an
    anonymous fact. -#}
{% macro fact_chain_client_id(client_id, records='client_records') -%}
    coalesce(
        {{ records }}.chain_client_id,
        case when {{ client_id }} is not null then {{ md5_hex("'client:' || " ~ client_id) }} end
    )
{%- endmacro %}
