# Nothing to do: init powers off (ACPI S5) afterwards.
echo "LVGUEST-UNAME $(uname -r)"
