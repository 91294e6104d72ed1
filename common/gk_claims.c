#include <string.h>

#include "gk_claims.h"

int gk_claim_path_is_valid(const char *name)
{
    apr_size_t n = strlen(name);

    return n && name[0] != '.' && name[n - 1] != '.' && !strstr(name, "..");
}

gk_claim_path_t *gk_claim_path_make(apr_pool_t *p, const char *name)
{
    gk_claim_path_t *path = apr_pcalloc(p, sizeof(*path));
    char *copy, *seg, *last;
    const char *s;

    path->name = apr_pstrdup(p, name);
    path->nsegs = 1;
    for (s = name; *s; s++) {
        path->nsegs += (*s == '.');
    }
    path->segs = apr_pcalloc(p, sizeof(char *) * (apr_size_t)path->nsegs);
    if (path->nsegs == 1) {
        path->segs[0] = path->name;
        return path;
    }
    copy = apr_pstrdup(p, name);
    path->nsegs = 0;
    for (seg = apr_strtok(copy, ".", &last); seg;
         seg = apr_strtok(NULL, ".", &last)) {
        path->segs[path->nsegs++] = seg;
    }
    return path;
}

json_t *gk_claim_get(json_t *claims, const gk_claim_path_t *path)
{
    json_t *v = json_object_get(claims, path->name);
    int i;

    if (v || path->nsegs < 2) {
        return v;
    }
    v = claims;
    for (i = 0; v && i < path->nsegs; i++) {
        v = json_object_get(v, path->segs[i]);
    }
    return v;
}

int gk_claim_strings(apr_pool_t *p, json_t *v, apr_array_header_t *list)
{
    int n = 0;

    if (json_is_array(v)) {
        json_t *e;
        size_t i;
        json_array_foreach(v, i, e) {
            if (json_is_string(e) && json_string_length(e)) {
                APR_ARRAY_PUSH(list, const char *) = json_string_value(e);
                n++;
            }
        }
    }
    else if (json_is_string(v)) {
        const char *s = json_string_value(v), *e;
        while (*s) {
            while (*s == ' ') {
                s++;
            }
            for (e = s; *e && *e != ' '; e++) {
            }
            if (e > s) {
                APR_ARRAY_PUSH(list, const char *) =
                    apr_pstrmemdup(p, s, (apr_size_t)(e - s));
                n++;
            }
            s = e;
        }
    }
    return n;
}

const char *gk_perm_check(apr_pool_t *p, const char *perm, int allow_wild)
{
    const char *s = perm, *seg = perm;

    if (!*perm) {
        return "a permission cannot be empty";
    }
    for (;; s++) {
        if (*s == ':' || !*s) {
            if (s == seg) {
                return apr_psprintf(p, "permission '%s' has an empty "
                                    "segment", perm);
            }
            if (memchr(seg, '*', (apr_size_t)(s - seg))
                && !(allow_wild && s - seg == 1)) {
                return apr_psprintf(p, "permission '%s': '*' must be a "
                                    "whole segment", perm);
            }
            if (!*s) {
                break;
            }
            seg = s + 1;
        }
        else if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) {
            return apr_psprintf(p, "permission '%s' may hold only visible "
                                "ASCII characters: no white space, control "
                                "or non-ASCII byte", perm);
        }
    }
    return NULL;
}

int gk_perm_covers(const char *held, const char *want)
{
    const char *h = held, *w = want;

    for (;;) {
        const char *he = strchr(h, ':'), *we = strchr(w, ':');
        apr_size_t hl = he ? (apr_size_t)(he - h) : strlen(h);
        apr_size_t wl = we ? (apr_size_t)(we - w) : strlen(w);

        if (hl == 1 && *h == '*') {
            if (!he) {
                return 1; /* trailing '*': this and all remaining segments */
            }
        }
        else if (hl != wl || memcmp(h, w, hl)) {
            return 0;
        }
        if (!he || !we) {
            return !he && !we;
        }
        h = he + 1;
        w = we + 1;
    }
}
