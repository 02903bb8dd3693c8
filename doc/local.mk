# doc/: man pages and guides.
dist_man_MANS += doc/vmseal.8 doc/vmsealed.8 doc/vmseal.conf.5 \
	doc/vmseal-checkpassword.8
dist_doc_DATA += doc/DESIGN.md doc/postfix.md doc/dovecot.md doc/operations.md \
	doc/mail-crypt.md
EXTRA_DIST += doc/fail2ban/vmsealed.conf doc/fail2ban/README.md
# Web applications behind Apache (mod_authnz_external + vmseal-authcheck).
dist_man_MANS += doc/vmseal-authcheck.8
dist_doc_DATA += doc/web-apps.md doc/self-service.md doc/cluster.md
