# service/: vmsealed, the process that holds the key.
sbin_PROGRAMS += service/vmsealed
service_vmsealed_SOURCES = \
	service/vmsealed.c service/service.h \
	service/conn.c service/conn.h service/log.c service/log.h \
	service/postfix.c service/admin.c service/status.c service/cmd_service.c \
	service/auth.c service/authkey.c service/authkey.h service/guard.c \
	service/passwd.c
service_vmsealed_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
service_vmsealed_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(PTHREAD_CFLAGS)
service_vmsealed_LDADD = admin/libvmsealadmin.la -lpthread
# Self-service password change (issue 14): poppassd and Roundcube's httpapi
# (libmicrohttpd).
service_vmsealed_SOURCES += service/selfservice.c service/httpapi.c
service_vmsealed_CFLAGS += $(MHD_CFLAGS)
service_vmsealed_LDADD += $(MHD_LIBS)

systemdsystemunit_DATA = service/vmsealed.service
EXTRA_DIST += service/vmsealed.service.in service/vmseal.conf.example
CLEANFILES += service/vmsealed.service
service/vmsealed.service: service/vmsealed.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) service && \
	    sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    $(srcdir)/service/vmsealed.service.in >$@
