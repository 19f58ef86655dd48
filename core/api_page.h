/* The status page served at / (core/www/index.html, embedded at build
 * time by scripts/embed_file.py into $(BUILD)/gen/api_page.c). */
#ifndef CORE_API_PAGE_H
#define CORE_API_PAGE_H

extern const char api_page_html[];
extern const unsigned long api_page_html_len;

#endif
