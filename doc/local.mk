# doc/: man pages and guides.
dist_man_MANS += doc/vmseal.8
dist_doc_DATA += doc/DESIGN.md
