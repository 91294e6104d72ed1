/*
 * mod_gk_validate configuration: GKValidateSchema, GKValidateMethods,
 * GKValidateMaxBody, GKValidateMaxDepth, GKValidateMaxErrors,
 * GKValidateFormats.
 *
 * Every argument is checked when the line is read. Each schema file is
 * read and parsed once, when the first line naming it is read (however
 * many scopes name it), into the one schema set of the configuration;
 * check_config compiles the set as a whole, so that a $ref from one file
 * into another resolves, and refuses it (also under apache2 -t) with the
 * line, the file, the JSON pointer and the reason. A graceful restart
 * reads the configuration again, and so reads and compiles every schema
 * again. No directive is allowed in .htaccess: schemas are read at
 * startup only.
 */
#include "apr_hash.h"
#include "apr_strings.h"
#include "http_protocol.h"

#include "gk_validate_private.h"

/* ---- create, merge, getters ------------------------------------------- */

void *gk_val_create_dir_conf(apr_pool_t *p, char *dir)
{
    gk_val_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->schema_set = c->max_body = c->max_depth = c->max_errors =
        c->formats = GK_UNSET;
    return c;
}

/* Each setting of a nested scope replaces its parent's. */
void *gk_val_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_val_dir_conf_t *base = basev, *add = addv;
    gk_val_dir_conf_t *c = apr_palloc(p, sizeof(*c));

    if (add->schema_set != GK_UNSET) {
        c->schema = add->schema;
        c->schema_set = add->schema_set;
    }
    else {
        c->schema = base->schema;
        c->schema_set = base->schema_set;
    }
    c->methods = add->methods ? add->methods : base->methods;
    c->max_body = GK_MERGE_INT(base, add, max_body);
    c->max_depth = GK_MERGE_INT(base, add, max_depth);
    c->max_errors = GK_MERGE_INT(base, add, max_errors);
    c->formats = GK_MERGE_INT(base, add, formats);
    return c;
}

apr_int64_t gk_val_conf_methods(const gk_val_dir_conf_t *c)
{
    return c->methods ? c->methods
                      : (AP_METHOD_BIT << M_POST) | (AP_METHOD_BIT << M_PUT)
                            | (AP_METHOD_BIT << M_PATCH);
}

int gk_val_conf_max_body(const gk_val_dir_conf_t *c)
{
    return GK_GET_INT(c, max_body, GK_VALIDATE_MAX_BODY_DEFAULT);
}

int gk_val_conf_max_depth(const gk_val_dir_conf_t *c)
{
    return GK_GET_INT(c, max_depth, GK_VALIDATE_MAX_DEPTH_DEFAULT);
}

int gk_val_conf_max_errors(const gk_val_dir_conf_t *c)
{
    return GK_GET_INT(c, max_errors, GK_VALIDATE_MAX_ERRORS_DEFAULT);
}

int gk_val_conf_formats_assert(const gk_val_dir_conf_t *c)
{
    return GK_GET_INT(c, formats, 1);
}

/* ---- the schemas of this configuration ---------------------------------- */

/* Everything lives in the configuration pool and is forgotten when the
 * next configuration is read (pre_config). Only the parent process reads
 * configurations, one at a time: no lock. */
static gk_schema_set_t *schema_set;
static apr_hash_t *schemas_by_path;     /* path -> gk_val_schema_t */
static apr_hash_t *schemas_by_uri;      /* uri -> gk_val_schema_t */

void gk_val_config_reset(void)
{
    schema_set = NULL;
    schemas_by_path = schemas_by_uri = NULL;
}

static apr_status_t decref_doc(void *doc)
{
    json_decref(doc);
    return APR_SUCCESS;
}

/* The schema at path, read and added to the set the first time. */
static const char *load_schema(cmd_parms *cmd, const char *path,
                               gk_val_schema_t **out)
{
    gk_val_schema_t *sc;
    gk_schema_compile_error_t cerr;
    json_error_t jerr;
    json_t *doc;

    if (!schema_set) {
        schema_set = gk_schema_set_make(cmd->pool);
        schemas_by_path = apr_hash_make(cmd->pool);
        schemas_by_uri = apr_hash_make(cmd->pool);
    }
    if ((sc = apr_hash_get(schemas_by_path, path, APR_HASH_KEY_STRING))) {
        *out = sc;
        return NULL;
    }
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (json_error_code(&jerr) == json_error_cannot_open_file) {
            return gk_ap_cmd_error(cmd, "%s: %s", path, jerr.text);
        }
        return gk_ap_cmd_error(cmd, "%s is not JSON: %s (line %d, column "
                               "%d)", path, jerr.text, jerr.line,
                               jerr.column);
    }
    apr_pool_cleanup_register(cmd->pool, doc, decref_doc,
                              apr_pool_cleanup_null);
    sc = apr_pcalloc(cmd->pool, sizeof(*sc));
    sc->path = path;
    sc->uri = apr_pstrcat(cmd->pool, "file://", path, NULL);
    sc->where = gk_ap_where(cmd);
    if (gk_schema_set_add(schema_set, sc->uri, doc, &cerr) != APR_SUCCESS) {
        return gk_ap_cmd_error(cmd, "%s: %s%s%s", path,
                               cerr.pointer ? "at " : "",
                               cerr.pointer ? cerr.pointer : "",
                               cerr.reason ? cerr.reason : "not loaded");
    }
    apr_hash_set(schemas_by_path, sc->path, APR_HASH_KEY_STRING, sc);
    apr_hash_set(schemas_by_uri, sc->uri, APR_HASH_KEY_STRING, sc);
    *out = sc;
    return NULL;
}

int gk_val_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s)
{
    gk_schema_compile_error_t err = {NULL, NULL, NULL};
    apr_hash_index_t *hi;

    if (!schema_set) {
        return OK;
    }
    if (gk_schema_set_compile(schema_set, &err) != APR_SUCCESS) {
        const gk_val_schema_t *sc =
            err.uri ? apr_hash_get(schemas_by_uri, err.uri,
                                   APR_HASH_KEY_STRING)
                    : NULL;
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, GKLOGNO(50001)
                     "GKValidateSchema %s (%s): the schema is refused at "
                     "JSON pointer \"%s\"%s%s: %s",
                     sc ? sc->path : (err.uri ? err.uri : "?"),
                     sc ? sc->where : "?", err.pointer ? err.pointer : "",
                     sc || !err.uri ? "" : " of ", sc || !err.uri ? ""
                                                                   : err.uri,
                     err.reason ? err.reason : "not valid draft-07");
        return !OK;
    }
    for (hi = apr_hash_first(ptemp, schemas_by_path); hi;
         hi = apr_hash_next(hi)) {
        gk_val_schema_t *sc = apr_hash_this_val(hi);
        sc->compiled = gk_schema_set_get(schema_set, sc->uri);
        if (!sc->compiled) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, GKLOGNO(50002)
                         "GKValidateSchema %s (%s): the schema was not "
                         "compiled", sc->path, sc->where);
            return !OK;
        }
    }
    return OK;
}

/* ---- the directives ---------------------------------------------------- */

static const char *set_schema(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_val_dir_conf_t *c = dc;
    gk_val_schema_t *sc;
    const char *path, *e;

    if (!*arg) {
        return gk_ap_cmd_error(cmd, "takes the path of a JSON Schema "
                               "(draft-07) file, or none");
    }
    c->schema_set = 1;
    if (!strcasecmp(arg, "none")) {
        c->schema = NULL;
        return NULL;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) {
        return gk_ap_cmd_error(cmd, "'%s' is not a valid path", arg);
    }
    if ((e = load_schema(cmd, path, &sc))) {
        return e;
    }
    c->schema = sc;
    return NULL;
}

static const char *set_methods(cmd_parms *cmd, void *dc, int argc,
                               char *const argv[])
{
    gk_val_dir_conf_t *c = dc;
    apr_int64_t mask = 0;
    int i;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "takes one or more methods (POST PUT "
                               "PATCH...)");
    }
    for (i = 0; i < argc; i++) {
        int m = ap_method_number_of(argv[i]);
        if (m == M_INVALID || m >= 63) {
            return gk_ap_cmd_error(cmd, "'%s' is not a method httpd knows "
                                   "(methods are upper case: POST, PUT, "
                                   "PATCH, DELETE...)", argv[i]);
        }
        mask |= AP_METHOD_BIT << m;
    }
    c->methods = mask;
    return NULL;
}

static const char *set_formats(cmd_parms *cmd, void *dc, const char *arg)
{
    static const gk_ap_keyword_t words[] = {
        {"assert", 1}, {"annotate", 0}, {NULL, 0}};
    gk_val_dir_conf_t *c = dc;

    if (!gk_ap_keyword(arg, words, &c->formats)) {
        return gk_ap_cmd_error(cmd, "'%s': takes assert (a value that "
                               "does not match its format is refused) or "
                               "annotate (formats are not checked)", arg);
    }
    return NULL;
}

static const gk_ap_int_slot_t max_body_slot =
    GK_AP_INT_SLOT(gk_val_dir_conf_t, max_body, 1,
                   GK_VALIDATE_MAX_BODY_MAX);
static const gk_ap_int_slot_t max_depth_slot =
    GK_AP_INT_SLOT(gk_val_dir_conf_t, max_depth, 1,
                   GK_VALIDATE_MAX_DEPTH_MAX);
static const gk_ap_int_slot_t max_errors_slot =
    GK_AP_INT_SLOT(gk_val_dir_conf_t, max_errors, 1,
                   GK_VALIDATE_MAX_ERRORS_MAX);

/* Server, virtual host, <Directory> and <Location>; never .htaccess (no
 * override class): schemas are read at startup only. */
#define GK_VAL_WHERE (RSRC_CONF | ACCESS_CONF)

const command_rec gk_val_cmds[] = {
    AP_INIT_TAKE1("GKValidateSchema", set_schema, NULL, GK_VAL_WHERE,
                  "The JSON Schema (draft-07) request bodies are validated "
                  "against: a file, or none"),
    AP_INIT_TAKE_ARGV("GKValidateMethods", set_methods, NULL, GK_VAL_WHERE,
                      "The methods whose bodies are validated (POST PUT "
                      "PATCH)"),
    AP_INIT_TAKE1("GKValidateMaxBody", gk_ap_set_int_slot,
                  (void *)&max_body_slot, GK_VAL_WHERE,
                  "The largest body validated, in bytes (larger: 413); "
                  "held in memory while it is checked"),
    AP_INIT_TAKE1("GKValidateMaxDepth", gk_ap_set_int_slot,
                  (void *)&max_depth_slot, GK_VAL_WHERE,
                  "The deepest nesting of arrays and objects accepted in "
                  "a body (1 to 2048)"),
    AP_INIT_TAKE1("GKValidateMaxErrors", gk_ap_set_int_slot,
                  (void *)&max_errors_slot, GK_VAL_WHERE,
                  "The most validation errors listed in a 422 answer"),
    AP_INIT_TAKE1("GKValidateFormats", set_formats, NULL, GK_VAL_WHERE,
                  "Whether format keywords are checked: assert or "
                  "annotate"),
    {NULL}
};
