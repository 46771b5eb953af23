// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include "events.h"

static const size_t record_size[RW_REC_MAX] = {
	[RW_REC_OP_BEGIN]	= sizeof(struct rw_op_begin),
	[RW_REC_INVAL_BEGIN]	= sizeof(struct rw_inval_begin),
	[RW_REC_INVAL_END]	= sizeof(struct rw_inval_end),
	[RW_REC_BLOCK_FREE]	= sizeof(struct rw_block_free),
	[RW_REC_OP_END]		= sizeof(struct rw_op_end),
	[RW_REC_INSERT]		= sizeof(struct rw_insert),
	[RW_REC_DELETE]		= sizeof(struct rw_delete),
	[RW_REC_PAGE]		= sizeof(struct rw_page_state),
	[RW_REC_FOLLOWUP]	= sizeof(struct rw_followup),
};

int events__decode(const void *data, size_t size, union rw_record *out)
{
	struct rw_hdr hdr;

	if (size < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.type == 0 || hdr.type >= RW_REC_MAX)
		return -EINVAL;
	if (hdr.size != record_size[hdr.type] || size < hdr.size)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out, data, hdr.size);
	return 0;
}

static const char *const type_names[RW_REC_MAX] = {
	[RW_REC_OP_BEGIN]	= "op_begin",
	[RW_REC_INVAL_BEGIN]	= "inval_begin",
	[RW_REC_INVAL_END]	= "inval_end",
	[RW_REC_BLOCK_FREE]	= "block_free",
	[RW_REC_OP_END]		= "op_end",
	[RW_REC_INSERT]		= "insert",
	[RW_REC_DELETE]		= "delete",
	[RW_REC_PAGE]		= "page",
	[RW_REC_FOLLOWUP]	= "followup",
};

const char *events__type_name(unsigned int type)
{
	return type < RW_REC_MAX && type_names[type] ? type_names[type] : "?";
}
