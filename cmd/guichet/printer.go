package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/kiosk"
)

// printerFlagHelp is the help of every --printer flag.
const printerFlagHelp = "usb:/dev/usb/lp0, serial:/dev/ttyUSB0?baud=19200, tcp:HOST:9100 or virtual:DIR; " +
	"options ?model=ID (guichet printer list), &paper=58, &codepage=pc858, &status=off"

const printerUsage = `Usage:
  guichet printer list                    the printer models Guichet knows
  guichet printer test --printer SPEC     print a test page and a sample ticket
`

// runPrinter runs "guichet printer list|test".
func runPrinter(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, printerUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "list":
		return printerList(out)
	case "test":
		return printerTest(ctx, args[1:], out, time.Now)
	case "-h", "--help", "help":
		fmt.Fprint(out, printerUsage)
		return nil
	}
	return fmt.Errorf("printer: unknown command %q\n%s", args[0], printerUsage)
}

// printerList prints the known models and what their profiles choose.
func printerList(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "MODEL\tNAME\tPAPER (mm: dots)\tDPI\tCODE PAGE\tCUT\tQR\tSTATUS")
	for _, p := range printer.Profiles() {
		f, err := printer.NewFormat(p, 0, printer.CodePage{})
		if err != nil {
			return err
		}
		n, _ := f.Table()
		paper := ""
		for i, mm := range p.Papers() {
			if i > 0 {
				paper += ", "
			}
			paper += fmt.Sprintf("%d: %d", mm, p.Paper[mm].Dots)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s (%s %d)\t%s\t%s\t%s\n", p.ID, p.Name, paper, p.DPI, f.CodePage.Name, p.Select, n,
			p.Cut, yes(p.QR, "printer", "image"), yes(p.Status, "DLE EOT", "none"))
	}
	return w.Flush()
}

func yes(b bool, y, n string) string {
	if b {
		return y
	}
	return n
}

// printerTest prints the test page and the sample ticket on the printer
// --printer names, then reads its status.
func printerTest(ctx context.Context, args []string, out io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("printer test", flag.ContinueOnError)
	fs.SetOutput(out)
	spec := fs.String("printer", "", printerFlagHelp)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *spec == "" {
		return errors.New("printer test: --printer is required (virtual:DIR writes the pages as PNG)")
	}
	pr, sp, err := openPrinter(*spec)
	if err != nil {
		return err
	}
	defer pr.Close()
	page, err := printer.TestPage(sp.Format)
	if err != nil {
		return fmt.Errorf("test page: %w", err)
	}
	ticket, err := kiosk.SampleTicket(sp.Format, now())
	if err != nil {
		return fmt.Errorf("sample ticket: %w", err)
	}
	fmt.Fprintf(out, "printer: %s\n", sp.Format)
	var pictures []string
	if vp, ok := pr.(*virtual.Printer); ok {
		vp.OnPage(func(path string, _ virtual.Page) { pictures = append(pictures, path) })
	}
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := pr.Print(c, append(page, ticket...)); err != nil {
		return fmt.Errorf("printer test: %w", err)
	}
	fmt.Fprintln(out, "printed: a test page and a sample ticket")
	for _, p := range pictures {
		fmt.Fprintf(out, "picture: %s\n", p)
	}
	st, err := pr.Status(c)
	switch {
	case err != nil:
		fmt.Fprintf(out, "status: no answer (%v); if it printed, add &status=off to --printer\n", err)
	default:
		fmt.Fprintf(out, "status: %s\n", st)
	}
	return nil
}
