# doc/: man pages and guides.
dist_man_MANS += doc/vmseal.8 doc/vmsealed.8 doc/vmseal.conf.5
dist_doc_DATA += doc/DESIGN.md
