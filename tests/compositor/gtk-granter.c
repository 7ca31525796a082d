// SPDX-License-Identifier: MIT
/*
 * A GTK4 window as granter, through libinlay-grant on GTK's own connection
 * and surface: grants (60, 60, 200x150) of its surface and starts argv[1]
 * there as grantee. Prints "accepted" when the grantee took the grant.
 */
#include <gdk/wayland/gdkwayland.h>
#include <gtk/gtk.h>
#include <stdio.h>

#include "inlay-grant.h"

struct granter {
	char *grantee;
	struct inlay_grant_manager *manager;
	struct inlay_grant *grant;
};

static void on_token(void *data, struct inlay_grant *grant, const char *token)
{
	struct granter *g = data;
	char *argv[] = {g->grantee, NULL};

	if (inlay_grant_spawn(grant, argv) < 0)
		fprintf(stderr, "gtk-granter: cannot start %s\n", g->grantee);
}

static void on_accepted(void *data, struct inlay_grant *grant)
{
	printf("accepted\n");
	fflush(stdout);
}

static const struct inlay_granter_listener listener = {
    .token = on_token,
    .accepted = on_accepted,
};

static void draw(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
	cairo_set_source_rgb(cr, 0.5, 0.25, 0.125);
	cairo_paint(cr);
}

static void on_map(GtkWidget *window, gpointer data)
{
	struct granter *g = data;
	GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(window));
	struct wl_display *display =
	    gdk_wayland_display_get_wl_display(gtk_widget_get_display(window));

	if (g->grant)
		return;
	g->manager = inlay_grant_manager_create(display);
	if (!g->manager) {
		fprintf(stderr, "gtk-granter: no screen-grant on this display\n");
		return;
	}
	g->grant = inlay_grant_create(g->manager, gdk_wayland_surface_get_wl_surface(surface), 60,
				      60, 200, 150, &listener, g);
	/* A grant change applies on the next commit: have GTK draw a frame. */
	gtk_widget_queue_draw(window);
}

static void on_activate(GtkApplication *app, gpointer data)
{
	GtkWidget *window = gtk_application_window_new(app);
	GtkWidget *area = gtk_drawing_area_new();

	gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(area), draw, NULL, NULL);
	gtk_window_set_child(GTK_WINDOW(window), area);
	gtk_window_set_default_size(GTK_WINDOW(window), 400, 300);
	g_signal_connect(window, "map", G_CALLBACK(on_map), data);
	gtk_window_present(GTK_WINDOW(window));
}

int main(int argc, char *argv[])
{
	struct granter g = {0};
	GtkApplication *app;
	int status;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GRANTEE\n", argv[0]);
		return 1;
	}
	g.grantee = argv[1];
	app = gtk_application_new(NULL, G_APPLICATION_NON_UNIQUE);
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), &g);
	status = g_application_run(G_APPLICATION(app), 1, argv);
	inlay_grant_destroy(g.grant);
	inlay_grant_manager_destroy(g.manager);
	g_object_unref(app);
	return status;
}
